using CloudStore.ControlPlane.Data;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// `./cloudstore demo` keeps its directory between runs and EnsureCreated adds nothing to an existing database, so a
/// directory made before two-step verification for everyone and user disabling must be brought up to date at start.
/// </summary>
public sealed class DirectorySchemaTests
{
    [Fact]
    public async Task EnsureCreated_DirectoryFromBeforeTwoStepForAllAndDisabling_UpgradedInPlace_PolicyOn()
    {
        var folder = Directory.CreateTempSubdirectory("cloudstore-schema-").FullName;
        try
        {
            var options = new DbContextOptionsBuilder<DirectoryDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "directory.db")};Pooling=False").Options;
            await using (var db = new DirectoryDbContext(options))
            {
                await DirectorySchema.EnsureCreatedAsync(db, CancellationToken.None);
                // Back to the earlier shape: no UsedTotpSteps, no DisabledAt, an organisation that had relaxed two-step.
                await db.Database.ExecuteSqlRawAsync(
                    """
                    DROP TABLE UsedTotpSteps;
                    ALTER TABLE AspNetUsers DROP COLUMN DisabledAt;
                    INSERT INTO Organizations (Id, Name, CreatedAt, RequireTwoFactorForAll, SubscriptionEndsAt, DefaultRetentionDays) VALUES ('00000000-0000-0000-0000-0000000000AA', 'Old', 0, 0, 0, 30);
                    """);
            }

            await using (var db = new DirectoryDbContext(options))
            {
                await DirectorySchema.EnsureCreatedAsync(db, CancellationToken.None);
                await DirectorySchema.EnsureCreatedAsync(db, CancellationToken.None);

                Assert.Equal(0, await db.UsedTotpSteps.CountAsync());
                Assert.Equal(0, await db.Users.CountAsync(u => u.DisabledAt != null));
                Assert.True(await db.Organizations.Where(o => o.Name == "Old").Select(o => o.RequireTwoFactorForAll).SingleAsync());
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

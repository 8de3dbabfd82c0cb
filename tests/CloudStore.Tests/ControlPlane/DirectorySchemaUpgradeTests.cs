using CloudStore.ControlPlane.Data;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// `./cloudstore demo` keeps its directory between runs and EnsureCreated changes nothing in an existing
/// database, so the schema's upgrade statements must bring an older directory to the current model.
/// </summary>
public sealed class DirectorySchemaUpgradeTests
{
    [Fact]
    public async Task EnsureCreated_DirectoryWithTypedFirmwareColumn_DevicesStoreReportedFirmwareAndRunsTwice()
    {
        var folder = Directory.CreateTempSubdirectory("cloudstore-schema-").FullName;
        try
        {
            var options = new DbContextOptionsBuilder<DirectoryDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "directory.db")};Pooling=False").Options;
            await using (var db = new DirectoryDbContext(options))
            {
                // The directory as it was while administrators typed the firmware: a NOT NULL column, no reported ones.
                await db.Database.EnsureCreatedAsync();
                await db.Database.ExecuteSqlRawAsync(
                    """
                    ALTER TABLE Devices DROP COLUMN ReportedFirmwareVersion;
                    ALTER TABLE Devices DROP COLUMN FirmwareReportedAt;
                    ALTER TABLE Devices ADD COLUMN FirmwareVersion TEXT NOT NULL DEFAULT '11.11.73';
                    """);
            }

            await using (var db = new DirectoryDbContext(options))
            {
                await DirectorySchema.EnsureCreatedAsync(db, CancellationToken.None);
                await DirectorySchema.EnsureCreatedAsync(db, CancellationToken.None);
                var organization = new CloudStore.ControlPlane.Organizations.Organization { Id = Guid.NewGuid(), Name = "Upgraded", CreatedAt = DateTimeOffset.UnixEpoch, SubscriptionEndsAt = DateTimeOffset.UnixEpoch };
                db.Organizations.Add(organization);
                db.Devices.Add(new CloudStore.ControlPlane.Devices.Device
                {
                    Id = Guid.NewGuid(), OrganizationId = organization.Id, Serial = "UPGRADED0001", Model = "AXIS M3086-V",
                    ReportedFirmwareVersion = "11.11.73", FirmwareReportedAt = DateTimeOffset.UnixEpoch,
                });
                await db.SaveChangesAsync();
            }

            await using (var db = new DirectoryDbContext(options))
            {
                var columns = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM pragma_table_info('Devices')").ToListAsync();
                Assert.DoesNotContain("FirmwareVersion", columns);
                Assert.Equal("11.11.73", await db.Devices.Select(d => d.ReportedFirmwareVersion).SingleAsync());
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Users;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// `./cloudstore demo` keeps its directory between runs. Directories made before migrations (by EnsureCreated, then
/// upgrade statements at each start) are adopted: the statements bring them to the first migration's schema, which is
/// then recorded as applied, and migrations carry on. Each case takes a current directory back to an older shape.
/// </summary>
public sealed class DirectorySchemaUpgradeTests
{
    [Fact]
    public async Task Migrate_LegacyDirectoryWithTypedFirmwareColumn_DevicesStoreReportedFirmwareAndRunsTwice()
    {
        // The directory as it was while administrators typed the firmware: a NOT NULL column, no reported ones.
        await WithOlderDirectoryAsync(
            """
            ALTER TABLE Devices DROP COLUMN ReportedFirmwareVersion;
            ALTER TABLE Devices DROP COLUMN FirmwareReportedAt;
            ALTER TABLE Devices ADD COLUMN FirmwareVersion TEXT NOT NULL DEFAULT '11.11.73';
            """,
            async db =>
            {
                var organization = new CloudStore.ControlPlane.Organizations.Organization { Id = Guid.NewGuid(), Name = "Upgraded", CreatedAt = DateTimeOffset.UnixEpoch, SubscriptionEndsAt = DateTimeOffset.UnixEpoch };
                db.Organizations.Add(organization);
                db.Devices.Add(new CloudStore.ControlPlane.Devices.Device
                {
                    Id = Guid.NewGuid(), OrganizationId = organization.Id, Serial = "UPGRADED0001", Model = "AXIS M3086-V",
                    ReportedFirmwareVersion = "11.11.73", FirmwareReportedAt = DateTimeOffset.UnixEpoch,
                });
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();

                var columns = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM pragma_table_info('Devices')").ToListAsync();
                Assert.DoesNotContain("FirmwareVersion", columns);
                Assert.Equal("11.11.73", await db.Devices.Select(d => d.ReportedFirmwareVersion).SingleAsync());
            });
    }

    [Fact]
    public async Task Migrate_LegacyDirectoryFromBeforeTwoStepForAllAndDisabling_UpgradedInPlace_PolicyOn()
    {
        // No UsedTotpSteps, no DisabledAt, an organisation that had relaxed two-step.
        await WithOlderDirectoryAsync(
            """
            DROP TABLE UsedTotpSteps;
            ALTER TABLE AspNetUsers DROP COLUMN DisabledAt;
            INSERT INTO Organizations (Id, Name, CreatedAt, RequireTwoFactorForAll, SubscriptionEndsAt, DefaultRetentionDays) VALUES ('00000000-0000-0000-0000-0000000000AA', 'Old', 0, 0, 0, 30);
            """,
            async db =>
            {
                Assert.Equal(0, await db.UsedTotpSteps.CountAsync());
                Assert.Equal(0, await db.Users.CountAsync(u => u.DisabledAt != null));
                Assert.True(await db.Organizations.Where(o => o.Name == "Old").Select(o => o.RequireTwoFactorForAll).SingleAsync());
            });
    }

    [Fact]
    public async Task Migrate_LegacyDirectoryFromBeforeInvitations_GetsTheLinkTable_WithItsRules()
    {
        // No AccountTokens table: a user with a password, as every user had before invitations.
        await WithOlderDirectoryAsync(
            """
            DROP TABLE AccountTokens;
            INSERT INTO Organizations (Id, Name, CreatedAt, RequireTwoFactorForAll, SubscriptionEndsAt, DefaultRetentionDays) VALUES ('00000000-0000-0000-0000-0000000000BB', 'Old', 0, 1, 0, 30);
            INSERT INTO AspNetUsers (Id, OrganizationId, Role, CreatedAt, UserName, Email, PasswordHash, EmailConfirmed, PhoneNumberConfirmed, TwoFactorEnabled, LockoutEnabled, AccessFailedCount)
                VALUES ('00000000-0000-0000-0000-0000000000CC', '00000000-0000-0000-0000-0000000000BB', 'operator', 0, 'old@old.test', 'old@old.test', 'hash', 0, 0, 1, 1, 0);
            """,
            async db =>
            {
                var userId = Guid.Parse("00000000-0000-0000-0000-0000000000CC");
                var hash = new byte[32];
                db.AccountTokens.Add(new AccountToken { Id = Guid.NewGuid(), UserId = userId, Purpose = AccountTokenPurposes.PasswordReset, TokenHash = hash, ExpiresAt = DateTimeOffset.UnixEpoch });
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();

                // The same hash twice is refused (a link is found by its hash), and the user's links go with the user.
                db.AccountTokens.Add(new AccountToken { Id = Guid.NewGuid(), UserId = userId, Purpose = AccountTokenPurposes.Invitation, TokenHash = hash });
                await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
                db.ChangeTracker.Clear();
                await db.Database.ExecuteSqlRawAsync("PRAGMA foreign_keys = ON; DELETE FROM AspNetUsers;");
                Assert.Equal(0, await db.AccountTokens.CountAsync());
            });
    }

    [Fact]
    public async Task EnsureCreated_DirectoryFromBeforeDeletion_GainsColumnsTombstonesAndNarrowedIndexes_SerialFreedByADeletedDevice()
    {
        // No deletion columns, no tombstones, and the serial and channel indexes over every row, deleted or not.
        await WithOlderDirectoryAsync(
            """
            DROP TABLE OrganizationTombstones;
            DROP INDEX IX_Devices_OrganizationId_Serial_Live;
            DROP INDEX IX_Cameras_DeviceId_Channel_Live;
            ALTER TABLE Organizations DROP COLUMN DeletedAt;
            ALTER TABLE Devices DROP COLUMN DeletedAt;
            ALTER TABLE Cameras DROP COLUMN DeletedAt;
            ALTER TABLE Cameras DROP COLUMN RecordingsAfterDeletion;
            CREATE UNIQUE INDEX IX_Devices_OrganizationId_Serial ON Devices (OrganizationId, Serial);
            CREATE UNIQUE INDEX IX_Cameras_DeviceId_Channel ON Cameras (DeviceId, Channel);
            """,
            async db =>
            {
                var organization = new CloudStore.ControlPlane.Organizations.Organization { Id = Guid.NewGuid(), Name = "Upgraded", CreatedAt = DateTimeOffset.UnixEpoch, SubscriptionEndsAt = DateTimeOffset.UnixEpoch };
                db.Organizations.Add(organization);
                db.Devices.Add(Device(organization.Id, deletedAt: DateTimeOffset.UnixEpoch));
                db.Devices.Add(Device(organization.Id, deletedAt: null));
                db.OrganizationTombstones.Add(new CloudStore.ControlPlane.Decommissioning.OrganizationTombstone { OrganizationId = Guid.NewGuid(), NameSha256 = new string('0', 64), DeletedBy = "system:operations" });
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();

                // A deleted device frees its serial; two devices with it that are not deleted are still refused.
                Assert.Equal(2, await db.Devices.CountAsync(d => d.Serial == "UPGRADED0002"));
                db.Devices.Add(Device(organization.Id, deletedAt: null));
                await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
                var indexes = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM sqlite_master WHERE type = 'index'").ToListAsync();
                Assert.DoesNotContain("IX_Devices_OrganizationId_Serial", indexes);
                Assert.DoesNotContain("IX_Cameras_DeviceId_Channel", indexes);
                Assert.Contains(DirectorySchema.LiveCameraChannelIndex, indexes);
            });
    }

    [Fact]
    public async Task EnsureCreated_UpgradedTombstoneTable_HasTheColumnsOfANewDirectory()
    {
        static Task<List<string>> ColumnsAsync(DirectoryDbContext db) => db.Database
            .SqlQueryRaw<string>("SELECT name || ' ' || type || ' ' || \"notnull\" || ' ' || pk AS Value FROM pragma_table_info('OrganizationTombstones') ORDER BY name").ToListAsync();
        List<string> fresh = [];
        await WithOlderDirectoryAsync("SELECT 1;", async db => fresh = await ColumnsAsync(db));

        await WithOlderDirectoryAsync("DROP TABLE OrganizationTombstones;", async db => Assert.Equal(fresh, await ColumnsAsync(db)));
    }

    static CloudStore.ControlPlane.Devices.Device Device(Guid organizationId, DateTimeOffset? deletedAt) => new()
    {
        Id = Guid.NewGuid(), OrganizationId = organizationId, Serial = "UPGRADED0002", Model = "AXIS M3086-V", DeletedAt = deletedAt,
        Status = deletedAt is null ? CloudStore.ControlPlane.Devices.DeviceStatus.Pending : CloudStore.ControlPlane.Devices.DeviceStatus.Revoked,
    };

    /// <summary>Tables that migrations after the first one create.</summary>
    static readonly string[] AddedByLaterMigrations = ["ClientThrottles", "DataProtectionKeys"];

    /// <summary>Columns (and their indexes) that migrations after the first one add to tables of the first.</summary>
    const string DropColumnsAddedByLaterMigrations =
        "DROP INDEX IX_AuditEntries_RepeatKey; ALTER TABLE AuditEntries DROP COLUMN RepeatKey; ALTER TABLE AuditEntries DROP COLUMN Count;";

    /// <summary>A current directory taken back to an older shape by <paramref name="downgrade"/>, then upgraded twice (idempotence) and checked.</summary>
    static async Task WithOlderDirectoryAsync(string downgrade, Func<DirectoryDbContext, Task> check)
    {
        var folder = Directory.CreateTempSubdirectory("cloudstore-schema-").FullName;
        try
        {
            var options = new DbContextOptionsBuilder<DirectoryDbContext>().UseSqlite($"Data Source={Path.Combine(folder, "directory.db")};Pooling=False").Options;
            await using (var db = new DirectoryDbContext(options))
            {
                await db.Database.EnsureCreatedAsync();
                // Directories from before migrations never had what later migrations add.
                await db.Database.ExecuteSqlRawAsync(string.Concat(AddedByLaterMigrations.Select(table => $"DROP TABLE {table};")));
                await db.Database.ExecuteSqlRawAsync(DropColumnsAddedByLaterMigrations);
                await db.Database.ExecuteSqlRawAsync(downgrade);
            }

            var connectionString = $"Data Source={Path.Combine(folder, "directory.db")};Pooling=False";
            await DatabaseMigrations.MigrateDirectoryAsync(DatabaseProvider.Sqlite, connectionString, CancellationToken.None);
            Assert.Empty(await DatabaseMigrations.MigrateDirectoryAsync(DatabaseProvider.Sqlite, connectionString, CancellationToken.None));
            Assert.Empty(await DatabaseMigrations.PendingDirectoryAsync(DatabaseProvider.Sqlite, connectionString, CancellationToken.None));
            await using (var db = new DirectoryDbContext(options))
            {
                await check(db);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Data;

/// <summary>
/// Brings a SQLite directory made before migrations (by <c>EnsureCreated</c>, then these statements at each start) to
/// the schema of the first migration, which <see cref="DatabaseMigrations"/> then records as applied. Idempotent.
/// Kept only for directories that old (the demo keeps its directory between runs); new changes are migrations.
/// </summary>
public static class DirectorySchema
{
    /// <summary>The filter of indexes that hold only rows not deleted (quoted: the same text serves PostgreSQL).</summary>
    public const string NotDeleted = "\"DeletedAt\" IS NULL";

    /// <summary>A serial is unique among an organisation's devices that are not deleted.</summary>
    public const string LiveDeviceSerialIndex = "IX_Devices_OrganizationId_Serial_Live";

    /// <summary>A channel is unique among a device's cameras that are not deleted.</summary>
    public const string LiveCameraChannelIndex = "IX_Cameras_DeviceId_Channel_Live";

    public static async Task UpgradeLegacySqliteAsync(DirectoryDbContext db, CancellationToken cancellationToken)
    {
        // The audit log is append-only: the database itself refuses to change or remove an entry.
        await db.Database.ExecuteSqlRawAsync(
            """
            CREATE TRIGGER IF NOT EXISTS AuditEntries_NoUpdate BEFORE UPDATE ON AuditEntries
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
            CREATE TRIGGER IF NOT EXISTS AuditEntries_NoDelete BEFORE DELETE ON AuditEntries
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
            """,
            cancellationToken);

        // A directory made before notifications existed (EnsureCreated added no table to an existing database).
        await db.Database.ExecuteSqlRawAsync(
            """
            CREATE TABLE IF NOT EXISTS Notifications (
                Id TEXT NOT NULL CONSTRAINT PK_Notifications PRIMARY KEY,
                OrganizationId TEXT NOT NULL REFERENCES Organizations (Id) ON DELETE CASCADE,
                Kind TEXT NOT NULL, Key TEXT NOT NULL, Message TEXT NOT NULL, CreatedAt INTEGER NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS IX_Notifications_OrganizationId_Kind_Key ON Notifications (OrganizationId, Kind, Key);
            """,
            cancellationToken);

        await UpgradeDeviceFirmwareAsync(db, cancellationToken);

        // A directory made before licences existed.
        await db.Database.ExecuteSqlRawAsync(
            """
            CREATE TABLE IF NOT EXISTS Licences (
                Id TEXT NOT NULL CONSTRAINT PK_Licences PRIMARY KEY,
                OrganizationId TEXT NOT NULL REFERENCES Organizations (Id) ON DELETE CASCADE,
                Source TEXT NOT NULL, PartnerKeyHash BLOB NULL, PartnerKeyHint TEXT NULL, State TEXT NOT NULL,
                CameraId TEXT NULL, AddedAt INTEGER NOT NULL, AllocatedAt INTEGER NULL, FirstAllocatedAt INTEGER NULL,
                LapsedAt INTEGER NULL, LapseReason TEXT NULL);
            CREATE INDEX IF NOT EXISTS IX_Licences_OrganizationId_State ON Licences (OrganizationId, State);
            CREATE UNIQUE INDEX IF NOT EXISTS IX_Licences_CameraId ON Licences (CameraId);
            CREATE UNIQUE INDEX IF NOT EXISTS IX_Licences_PartnerKeyHash ON Licences (PartnerKeyHash);
            """,
            cancellationToken);

        // A directory made before retention and legal holds existed (the demo keeps its directory between
        // runs): the same columns and table as the model, added only where missing.
        await db.Database.ExecuteSqlRawAsync(
            """
            CREATE TABLE IF NOT EXISTS LegalHolds (
                Id TEXT NOT NULL CONSTRAINT PK_LegalHolds PRIMARY KEY,
                OrganizationId TEXT NOT NULL REFERENCES Organizations (Id) ON DELETE CASCADE,
                CameraId TEXT NOT NULL REFERENCES Cameras (Id) ON DELETE CASCADE,
                "From" INTEGER NOT NULL, "To" INTEGER NOT NULL, CaseReference TEXT NOT NULL,
                CreatedAt INTEGER NOT NULL, CreatedBy TEXT NOT NULL, ReleasedAt INTEGER NULL, ReleasedBy TEXT NULL);
            CREATE INDEX IF NOT EXISTS IX_LegalHolds_CameraId_From ON LegalHolds (CameraId, "From");
            CREATE INDEX IF NOT EXISTS IX_LegalHolds_OrganizationId ON LegalHolds (OrganizationId);
            """,
            cancellationToken);
        await AddColumnIfMissingAsync(db, "Cameras", "RetentionDays", "INTEGER NULL", cancellationToken);
        await AddColumnIfMissingAsync(db, "Organizations", "DefaultRetentionDays", $"INTEGER NOT NULL DEFAULT {Retention.RetentionRules.DefaultDays}", cancellationToken);

        // Directories made before authenticator codes were single-use, and before two-step verification was
        // required for every role.
        await db.Database.ExecuteSqlRawAsync(
            """
            CREATE TABLE IF NOT EXISTS UsedTotpSteps (
                UserId TEXT NOT NULL CONSTRAINT PK_UsedTotpSteps PRIMARY KEY
                    CONSTRAINT FK_UsedTotpSteps_AspNetUsers_UserId REFERENCES AspNetUsers (Id) ON DELETE CASCADE,
                LastStep INTEGER NOT NULL);
            UPDATE Organizations SET RequireTwoFactorForAll = 1 WHERE RequireTwoFactorForAll = 0;
            """,
            cancellationToken);

        // Directories made before users could be disabled.
        await AddColumnIfMissingAsync(db, "AspNetUsers", "DisabledAt", "INTEGER NULL", cancellationToken);

        // Directories made before invitations and password-reset links.
        await db.Database.ExecuteSqlRawAsync(
            """
            CREATE TABLE IF NOT EXISTS AccountTokens (
                Id TEXT NOT NULL CONSTRAINT PK_AccountTokens PRIMARY KEY,
                UserId TEXT NOT NULL CONSTRAINT FK_AccountTokens_AspNetUsers_UserId REFERENCES AspNetUsers (Id) ON DELETE CASCADE,
                Purpose TEXT NOT NULL, TokenHash BLOB NOT NULL, CreatedAt INTEGER NOT NULL, ExpiresAt INTEGER NOT NULL, UsedAt INTEGER NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS IX_AccountTokens_TokenHash ON AccountTokens (TokenHash);
            CREATE INDEX IF NOT EXISTS IX_AccountTokens_UserId_Purpose ON AccountTokens (UserId, Purpose);
            """,
            cancellationToken);

        await UpgradeDecommissioningAsync(db, cancellationToken);
    }

    /// <summary>
    /// A directory made before cameras, devices and organisations could be deleted: their deletion columns, the
    /// tombstones, and the serial and channel indexes narrowed to rows not deleted (the old, unfiltered ones would keep
    /// a deleted device's serial taken). Idempotent.
    /// </summary>
    static async Task UpgradeDecommissioningAsync(DirectoryDbContext db, CancellationToken cancellationToken)
    {
        await AddColumnIfMissingAsync(db, "Organizations", "DeletedAt", "INTEGER NULL", cancellationToken);
        await AddColumnIfMissingAsync(db, "Devices", "DeletedAt", "INTEGER NULL", cancellationToken);
        await AddColumnIfMissingAsync(db, "Cameras", "DeletedAt", "INTEGER NULL", cancellationToken);
        await AddColumnIfMissingAsync(db, "Cameras", "RecordingsAfterDeletion", "TEXT NULL", cancellationToken);
        await db.Database.ExecuteSqlRawAsync(
            $$"""
            CREATE TABLE IF NOT EXISTS OrganizationTombstones (
                OrganizationId TEXT NOT NULL CONSTRAINT PK_OrganizationTombstones PRIMARY KEY,
                NameSha256 TEXT NOT NULL, HomeRegion TEXT NULL, DeletedAt INTEGER NOT NULL, DeletedBy TEXT NOT NULL,
                KeysDestroyedIn TEXT NOT NULL, KeysDestroyedAt INTEGER NULL, StorageClearedAt INTEGER NULL, PurgedAt INTEGER NULL);
            DROP INDEX IF EXISTS IX_Devices_OrganizationId_Serial;
            CREATE UNIQUE INDEX IF NOT EXISTS {{LiveDeviceSerialIndex}} ON Devices (OrganizationId, Serial) WHERE {{NotDeleted}};
            DROP INDEX IF EXISTS IX_Cameras_DeviceId_Channel;
            CREATE UNIQUE INDEX IF NOT EXISTS {{LiveCameraChannelIndex}} ON Cameras (DeviceId, Channel) WHERE {{NotDeleted}};
            """,
            cancellationToken);
    }

    /// <summary>SQLite has no ADD COLUMN IF NOT EXISTS: adds the column only if <c>pragma_table_info</c> lacks it.</summary>
    static async Task AddColumnIfMissingAsync(DirectoryDbContext db, string table, string column, string definition, CancellationToken cancellationToken)
    {
        if (!await HasColumnAsync(db, table, column, cancellationToken))
        {
            // Table, column and definition are constants of this class, never input.
#pragma warning disable EF1002
            await db.Database.ExecuteSqlRawAsync($"ALTER TABLE {table} ADD COLUMN {column} {definition};", cancellationToken);
#pragma warning restore EF1002
        }
    }

    /// <summary>
    /// A directory made while administrators typed a device's firmware: add the reported-firmware columns and
    /// drop the typed one (NOT NULL, so inserts without it would fail; the value was never the device's word,
    /// so nothing is carried over: each device reports its version at its next token request). Idempotent.
    /// </summary>
    static async Task UpgradeDeviceFirmwareAsync(DirectoryDbContext db, CancellationToken cancellationToken)
    {
        await AddColumnIfMissingAsync(db, "Devices", "ReportedFirmwareVersion", "TEXT NULL", cancellationToken);
        await AddColumnIfMissingAsync(db, "Devices", "FirmwareReportedAt", "INTEGER NULL", cancellationToken);

        if (await HasColumnAsync(db, "Devices", "FirmwareVersion", cancellationToken))
        {
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE Devices DROP COLUMN FirmwareVersion;", cancellationToken);
        }
    }

    static async Task<bool> HasColumnAsync(DirectoryDbContext db, string table, string column, CancellationToken cancellationToken) =>
        await db.Database.SqlQuery<int>($"SELECT COUNT(*) AS Value FROM pragma_table_info({table}) WHERE name = {column}").SingleAsync(cancellationToken) > 0;
}

using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Data;

/// <summary>Creates the directory schema and the database rules the model alone cannot state.</summary>
public static class DirectorySchema
{
    public static async Task EnsureCreatedAsync(DirectoryDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.EnsureCreatedAsync(cancellationToken);
        if (db.Database.IsSqlite())
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

            // A directory made before notifications existed (EnsureCreated adds no table to an existing
            // database; migrations replace this when PostgreSQL arrives).
            await db.Database.ExecuteSqlRawAsync(
                """
                CREATE TABLE IF NOT EXISTS Notifications (
                    Id TEXT NOT NULL CONSTRAINT PK_Notifications PRIMARY KEY,
                    OrganizationId TEXT NOT NULL REFERENCES Organizations (Id) ON DELETE CASCADE,
                    Kind TEXT NOT NULL, Key TEXT NOT NULL, Message TEXT NOT NULL, CreatedAt INTEGER NOT NULL);
                CREATE UNIQUE INDEX IF NOT EXISTS IX_Notifications_OrganizationId_Kind_Key ON Notifications (OrganizationId, Kind, Key);
                """,
                cancellationToken);

            // Directories made before authenticator codes were single-use, and before two-step verification was
            // required for every role (migrations replace this when PostgreSQL arrives).
            await db.Database.ExecuteSqlRawAsync(
                """
                CREATE TABLE IF NOT EXISTS UsedTotpSteps (
                    UserId TEXT NOT NULL CONSTRAINT PK_UsedTotpSteps PRIMARY KEY
                        CONSTRAINT FK_UsedTotpSteps_AspNetUsers_UserId REFERENCES AspNetUsers (Id) ON DELETE CASCADE,
                    LastStep INTEGER NOT NULL);
                UPDATE Organizations SET RequireTwoFactorForAll = 1 WHERE RequireTwoFactorForAll = 0;
                """,
                cancellationToken);

            // Directories made before users could be disabled (migrations replace this).
            await AddColumnIfMissingAsync(db, "AspNetUsers", "DisabledAt", "INTEGER NULL", cancellationToken);
        }
    }

    /// <summary>SQLite has no ADD COLUMN IF NOT EXISTS: ask pragma_table_info first. Names are constants of this class, never input.</summary>
    static async Task AddColumnIfMissingAsync(DirectoryDbContext db, string table, string column, string definition, CancellationToken cancellationToken)
    {
        var present = await db.Database
            .SqlQuery<int>($"SELECT COUNT(*) AS Value FROM pragma_table_info({table}) WHERE name = {column}")
            .SingleAsync(cancellationToken);
        if (present == 0)
        {
#pragma warning disable EF1002 // Identifiers cannot be parameters; both come from constants above.
            await db.Database.ExecuteSqlRawAsync($"ALTER TABLE \"{table}\" ADD COLUMN \"{column}\" {definition}", cancellationToken);
#pragma warning restore EF1002
        }
    }
}

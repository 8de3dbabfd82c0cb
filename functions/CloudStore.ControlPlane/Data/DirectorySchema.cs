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
        }
    }
}

using Microsoft.EntityFrameworkCore;

namespace CloudStore.Functions.Data;

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
        }
    }
}

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

            // A directory made before retention and legal holds existed (the demo keeps its directory between
            // runs): the same columns and table as the model, added only where missing. Migrations replace this.
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
        }
    }

    /// <summary>SQLite has no ADD COLUMN IF NOT EXISTS: adds the column only if <c>pragma_table_info</c> lacks it.</summary>
    static async Task AddColumnIfMissingAsync(DirectoryDbContext db, string table, string column, string definition, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var check = connection.CreateCommand();
            check.CommandText = "SELECT COUNT(*) FROM pragma_table_info($table) WHERE name = $column";
            AddParameter(check, "$table", table);
            AddParameter(check, "$column", column);
            if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                // Table, column and definition are constants of this class, never input.
#pragma warning disable EF1002
                await db.Database.ExecuteSqlRawAsync($"ALTER TABLE {table} ADD COLUMN {column} {definition};", cancellationToken);
#pragma warning restore EF1002
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    static void AddParameter(System.Data.Common.DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}

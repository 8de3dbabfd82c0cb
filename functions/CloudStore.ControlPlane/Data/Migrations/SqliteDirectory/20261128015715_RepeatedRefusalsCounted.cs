using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudStore.ControlPlane.Data.Migrations.SqliteDirectory
{
    /// <inheritdoc />
    public partial class RepeatedRefusalsCounted : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Count",
                table: "AuditEntries",
                type: "INTEGER",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.AddColumn<string>(
                name: "RepeatKey",
                table: "AuditEntries",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_RepeatKey",
                table: "AuditEntries",
                column: "RepeatKey",
                unique: true,
                filter: "\"RepeatKey\" IS NOT NULL");

            // Still append-only, with one exception: a row of repeated refusals (RepeatKey set) may have its count raised
            // by one, and nothing else of it changed.
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS AuditEntries_NoUpdate;
                CREATE TRIGGER AuditEntries_NoUpdate BEFORE UPDATE ON "AuditEntries"
                WHEN NOT (OLD."RepeatKey" IS NOT NULL AND NEW."Count" = OLD."Count" + 1 AND NEW."Id" = OLD."Id" AND NEW."Time" = OLD."Time"
                    AND NEW."OrganizationId" IS OLD."OrganizationId" AND NEW."Actor" = OLD."Actor" AND NEW."SourceAddress" = OLD."SourceAddress"
                    AND NEW."Action" = OLD."Action" AND NEW."Target" = OLD."Target" AND NEW."Outcome" = OLD."Outcome" AND NEW."RepeatKey" = OLD."RepeatKey")
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS AuditEntries_NoUpdate;
                CREATE TRIGGER AuditEntries_NoUpdate BEFORE UPDATE ON "AuditEntries"
                BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                """);

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_RepeatKey",
                table: "AuditEntries");

            migrationBuilder.DropColumn(
                name: "Count",
                table: "AuditEntries");

            migrationBuilder.DropColumn(
                name: "RepeatKey",
                table: "AuditEntries");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudStore.ControlPlane.Data.Migrations.PostgresDirectory
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
                type: "integer",
                nullable: false,
                defaultValue: 1);

            migrationBuilder.AddColumn<string>(
                name: "RepeatKey",
                table: "AuditEntries",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_RepeatKey",
                table: "AuditEntries",
                column: "RepeatKey",
                unique: true,
                filter: "\"RepeatKey\" IS NOT NULL");

            // Still append-only, with one exception: a row of repeated refusals (RepeatKey set) may have its count raised
            // by one, and nothing else of it changed. TRUNCATE and DELETE stay refused.
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' THEN
                        IF OLD."RepeatKey" IS NOT NULL AND NEW."Count" = OLD."Count" + 1
                            AND (to_jsonb(NEW) - 'Count') = (to_jsonb(OLD) - 'Count') THEN
                            RETURN NEW;
                        END IF;
                    END IF;
                    RAISE EXCEPTION 'the audit log is append-only';
                END $$;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
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

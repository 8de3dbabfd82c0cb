using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudStore.ControlPlane.Data.Migrations.SqliteIndex
{
    /// <inheritdoc />
    public partial class TamperReports : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "TamperReportedAt",
                table: "Segments",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "TamperReportedAt",
                table: "InitSegments",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TamperReportedAt",
                table: "Segments");

            migrationBuilder.DropColumn(
                name: "TamperReportedAt",
                table: "InitSegments");
        }
    }
}

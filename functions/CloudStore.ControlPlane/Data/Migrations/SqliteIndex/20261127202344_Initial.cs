using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CloudStore.ControlPlane.Data.Migrations.SqliteIndex
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "InitSegments",
                columns: table => new
                {
                    CameraId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ObjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    Sha256 = table.Column<byte[]>(type: "BLOB", nullable: false),
                    KeyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Iv = table.Column<byte[]>(type: "BLOB", nullable: false),
                    IndexedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InitSegments", x => new { x.CameraId, x.ObjectName });
                });

            migrationBuilder.CreateTable(
                name: "Segments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CameraId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Sequence = table.Column<long>(type: "INTEGER", nullable: false),
                    StartTime = table.Column<long>(type: "INTEGER", nullable: false),
                    DurationMs = table.Column<int>(type: "INTEGER", nullable: false),
                    ObjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Size = table.Column<long>(type: "INTEGER", nullable: false),
                    Sha256 = table.Column<byte[]>(type: "BLOB", nullable: false),
                    KeyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Iv = table.Column<byte[]>(type: "BLOB", nullable: false),
                    InitObjectName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Codec = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Width = table.Column<int>(type: "INTEGER", nullable: false),
                    Height = table.Column<int>(type: "INTEGER", nullable: false),
                    IndexedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Segments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "WrappedKeys",
                columns: table => new
                {
                    KeyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CameraId = table.Column<Guid>(type: "TEXT", nullable: false),
                    KeyEncryptionKeyId = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    Wrapped = table.Column<byte[]>(type: "BLOB", nullable: false),
                    IndexedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WrappedKeys", x => x.KeyId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Segments_CameraId_Sequence",
                table: "Segments",
                columns: new[] { "CameraId", "Sequence" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Segments_CameraId_StartTime",
                table: "Segments",
                columns: new[] { "CameraId", "StartTime" });

            migrationBuilder.CreateIndex(
                name: "IX_WrappedKeys_CameraId",
                table: "WrappedKeys",
                column: "CameraId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "InitSegments");

            migrationBuilder.DropTable(
                name: "Segments");

            migrationBuilder.DropTable(
                name: "WrappedKeys");
        }
    }
}

using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace CloudStore.ControlPlane.Data.Migrations.PostgresIndex
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
                    CameraId = table.Column<Guid>(type: "uuid", nullable: false),
                    ObjectName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    Sha256 = table.Column<byte[]>(type: "bytea", nullable: false),
                    KeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    Iv = table.Column<byte[]>(type: "bytea", nullable: false),
                    IndexedAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_InitSegments", x => new { x.CameraId, x.ObjectName });
                });

            migrationBuilder.CreateTable(
                name: "Segments",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    CameraId = table.Column<Guid>(type: "uuid", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    StartTime = table.Column<long>(type: "bigint", nullable: false),
                    DurationMs = table.Column<int>(type: "integer", nullable: false),
                    ObjectName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    Sha256 = table.Column<byte[]>(type: "bytea", nullable: false),
                    KeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    Iv = table.Column<byte[]>(type: "bytea", nullable: false),
                    InitObjectName = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Codec = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    Width = table.Column<int>(type: "integer", nullable: false),
                    Height = table.Column<int>(type: "integer", nullable: false),
                    IndexedAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Segments", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "WrappedKeys",
                columns: table => new
                {
                    KeyId = table.Column<Guid>(type: "uuid", nullable: false),
                    OrganizationId = table.Column<Guid>(type: "uuid", nullable: false),
                    CameraId = table.Column<Guid>(type: "uuid", nullable: false),
                    KeyEncryptionKeyId = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false),
                    Wrapped = table.Column<byte[]>(type: "bytea", nullable: false),
                    IndexedAt = table.Column<long>(type: "bigint", nullable: false)
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

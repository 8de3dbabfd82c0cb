using CloudStore.ControlPlane.Data;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Recordings;

/// <summary>
/// A region's recording index: what each camera of the organisations homed there has stored, and
/// where the wrapped keys are. One database per region, so index rows never leave their region.
/// </summary>
public class IndexDbContext : DbContext
{
    public IndexDbContext(DbContextOptions<IndexDbContext> options)
        : base(options)
    {
    }

    /// <summary>For the per-database migration contexts (<see cref="Data.Migrations.SqliteIndexDbContext"/>, <see cref="Data.Migrations.PostgresIndexDbContext"/>).</summary>
    protected IndexDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<SegmentRow> Segments => Set<SegmentRow>();

    public DbSet<InitSegmentRow> InitSegments => Set<InitSegmentRow>();

    public DbSet<WrappedKeyRow> WrappedKeys => Set<WrappedKeyRow>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SegmentRow>(segment =>
        {
            segment.HasIndex(s => new { s.CameraId, s.Sequence }).IsUnique();
            segment.HasIndex(s => new { s.CameraId, s.StartTime });
            segment.Property(s => s.ObjectName).HasMaxLength(256);
            segment.Property(s => s.InitObjectName).HasMaxLength(256);
            segment.Property(s => s.Codec).HasMaxLength(32);
        });
        modelBuilder.Entity<InitSegmentRow>(init =>
        {
            init.HasKey(i => new { i.CameraId, i.ObjectName });
            init.Property(i => i.ObjectName).HasMaxLength(256);
        });
        modelBuilder.Entity<WrappedKeyRow>(key =>
        {
            key.HasKey(k => k.KeyId);
            key.HasIndex(k => k.CameraId);
            key.Property(k => k.KeyEncryptionKeyId).HasMaxLength(255);
        });
    }
}

/// <summary>One encrypted media segment as stored.</summary>
public sealed class SegmentRow
{
    public long Id { get; set; }

    public Guid OrganizationId { get; set; }

    public Guid CameraId { get; set; }

    public long Sequence { get; set; }

    public DateTimeOffset StartTime { get; set; }

    public int DurationMs { get; set; }

    public required string ObjectName { get; set; }

    public long Size { get; set; }

    public required byte[] Sha256 { get; set; }

    public Guid KeyId { get; set; }

    public required byte[] Iv { get; set; }

    public required string InitObjectName { get; set; }

    public required string Codec { get; set; }

    public int Width { get; set; }

    public int Height { get; set; }

    public DateTimeOffset IndexedAt { get; set; }

    /// <summary>When a player first reported the stored object altered (its SHA-256 not <see cref="Sha256"/>); null: never. Audited once, then.</summary>
    public DateTimeOffset? TamperReportedAt { get; set; }
}

/// <summary>One encrypted init segment (the fMP4 header the media segments after it play with).</summary>
public sealed class InitSegmentRow
{
    public Guid CameraId { get; set; }

    public required string ObjectName { get; set; }

    public Guid OrganizationId { get; set; }

    public long Size { get; set; }

    public required byte[] Sha256 { get; set; }

    public Guid KeyId { get; set; }

    public required byte[] Iv { get; set; }

    public DateTimeOffset IndexedAt { get; set; }

    /// <summary>When a player first reported the stored object altered (its SHA-256 not <see cref="Sha256"/>); null: never. Audited once, then.</summary>
    public DateTimeOffset? TamperReportedAt { get; set; }
}

/// <summary>A data key's wrapped form, stored beside the media as <c>keys/{key id}.key</c>.</summary>
public sealed class WrappedKeyRow
{
    public Guid KeyId { get; set; }

    public Guid OrganizationId { get; set; }

    public Guid CameraId { get; set; }

    /// <summary>Which version of the organisation's RSA key wrapped it.</summary>
    public required string KeyEncryptionKeyId { get; set; }

    /// <summary>The wrapped key itself (RSA-OAEP ciphertext, useless without the key server), so playlists need no storage reads.</summary>
    public required byte[] Wrapped { get; set; }

    public DateTimeOffset IndexedAt { get; set; }
}

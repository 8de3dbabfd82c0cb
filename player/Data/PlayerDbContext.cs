using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace CloudStore.Player.Data;

/// <summary>
/// The player's own database: signed-in sessions and the data-protection keys that seal session cookies and the
/// tokens stored with each session. Every player instance shares it, so a session started on one works on another and
/// a cookie sealed by one opens on another. SQLite for the demo, PostgreSQL where several instances run.
/// </summary>
public class PlayerDbContext : DbContext, IDataProtectionKeyContext
{
    public PlayerDbContext(DbContextOptions<PlayerDbContext> options)
        : base(options)
    {
    }

    /// <summary>For the per-database migration contexts (<see cref="Migrations.SqlitePlayerDbContext"/>, <see cref="Migrations.PostgresPlayerDbContext"/>).</summary>
    protected PlayerDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<StoredSession> Sessions => Set<StoredSession>();

    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<StoredSession>(session =>
        {
            session.HasKey(s => s.IdHash);
            session.Property(s => s.IdHash).HasMaxLength(64);
            session.Property(s => s.Version).IsConcurrencyToken();
            session.HasIndex(s => s.LastUsed);
        });
    }

    sealed class UnixMillisecondsConverter() : ValueConverter<DateTimeOffset, long>(
        value => value.ToUnixTimeMilliseconds(), value => DateTimeOffset.FromUnixTimeMilliseconds(value));
}

/// <summary>
/// One signed-in session. The browser's cookie carries the session id; only its SHA-256 is stored, so the table does
/// not open sessions by itself. The refresh token and the cached access tokens are sealed with data protection.
/// </summary>
public sealed class StoredSession
{
    /// <summary>SHA-256 of the session id, in hex.</summary>
    public required string IdHash { get; set; }

    /// <summary>The API refresh token, sealed.</summary>
    public required string RefreshToken { get; set; }

    /// <summary>The access tokens handed out, one per audience (JSON), sealed.</summary>
    public required string AccessTokens { get; set; }

    public DateTimeOffset LastUsed { get; set; }

    /// <summary>
    /// Set while one request (on any instance) refreshes: the refresh token is single-use, so the others wait for the
    /// new one rather than present the old one, which the API would take for theft. Expires if that request dies.
    /// </summary>
    public DateTimeOffset RefreshingUntil { get; set; }

    /// <summary>Bumped by every change: a claim or an update made on a stale read changes nothing.</summary>
    public long Version { get; set; }
}

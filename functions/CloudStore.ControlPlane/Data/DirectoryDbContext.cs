using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Decommissioning;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Organizations;
using CloudStore.ControlPlane.Retention;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace CloudStore.ControlPlane.Data;

/// <summary>
/// The directory: organisations, users (ASP.NET Core Identity), devices, cameras, tokens and the
/// audit log. Global data, not regional. The model uses only portable types (times are stored as
/// Unix milliseconds) so the same context runs on SQLite (embedded default) and PostgreSQL.
/// </summary>
public class DirectoryDbContext : IdentityUserContext<CloudStoreUser, Guid>, IDataProtectionKeyContext
{
    public DirectoryDbContext(DbContextOptions<DirectoryDbContext> options)
        : base(options)
    {
    }

    /// <summary>For the per-database migration contexts (<see cref="Migrations.SqliteDirectoryDbContext"/>, <see cref="Migrations.PostgresDirectoryDbContext"/>).</summary>
    protected DirectoryDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<Organization> Organizations => Set<Organization>();

    public DbSet<Device> Devices => Set<Device>();

    public DbSet<Camera> Cameras => Set<Camera>();

    public DbSet<UsedAssertion> UsedAssertions => Set<UsedAssertion>();

    public DbSet<RefreshToken> RefreshTokens => Set<RefreshToken>();

    public DbSet<SignInChallenge> SignInChallenges => Set<SignInChallenge>();

    public DbSet<UsedTotpStep> UsedTotpSteps => Set<UsedTotpStep>();

    public DbSet<ClientThrottle> ClientThrottles => Set<ClientThrottle>();

    public DbSet<AccountToken> AccountTokens => Set<AccountToken>();

    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<Notification> Notifications => Set<Notification>();

    public DbSet<Licences.Licence> Licences => Set<Licences.Licence>();

    public DbSet<LegalHold> LegalHolds => Set<LegalHold>();

    public DbSet<OrganizationTombstone> OrganizationTombstones => Set<OrganizationTombstone>();

    /// <summary>The functions' data-protection key ring, shared by every instance (it seals authenticator secrets: <see cref="Auth.ProtectedUserStore"/>).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<UnixMillisecondsConverter>();
    }

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        builder.Entity<CloudStoreUser>(user =>
        {
            user.Property(u => u.Role).HasMaxLength(32);
            user.HasIndex(u => u.OrganizationId);
            user.HasOne<Organization>().WithMany().HasForeignKey(u => u.OrganizationId);
        });

        builder.Entity<Organization>(org => org.Property(o => o.Name).HasMaxLength(Limits.NameLength));

        builder.Entity<Device>(device =>
        {
            // A serial is unique among the organisation's devices that are not deleted: a deleted one frees it for a new device.
            device.HasIndex(d => new { d.OrganizationId, d.Serial }).IsUnique().HasFilter(DirectorySchema.NotDeleted).HasDatabaseName(DirectorySchema.LiveDeviceSerialIndex);
            device.HasIndex(d => d.EnrolmentCodeHash).IsUnique();
            device.Property(d => d.Serial).HasMaxLength(Limits.SerialLength);
            device.Property(d => d.Model).HasMaxLength(Limits.NameLength);
            device.Property(d => d.ReportedFirmwareVersion).HasMaxLength(Limits.FirmwareLength);
            device.Property(d => d.Status).HasConversion<string>().HasMaxLength(16);
            device.HasOne<Organization>().WithMany().HasForeignKey(d => d.OrganizationId);
        });

        builder.Entity<Camera>(camera =>
        {
            camera.HasIndex(c => new { c.DeviceId, c.Channel }).IsUnique().HasFilter(DirectorySchema.NotDeleted).HasDatabaseName(DirectorySchema.LiveCameraChannelIndex);
            camera.Property(c => c.RecordingsAfterDeletion).HasConversion<string>().HasMaxLength(8);
            camera.HasIndex(c => c.OrganizationId);
            camera.Property(c => c.Name).HasMaxLength(Limits.NameLength);
            camera.HasOne<Device>().WithMany().HasForeignKey(c => c.DeviceId);
        });

        builder.Entity<UsedAssertion>(used =>
        {
            used.HasKey(u => new { u.DeviceId, u.Id });
            used.Property(u => u.Id).HasMaxLength(Limits.AssertionIdLength);
            used.HasIndex(u => u.ExpiresAt);
        });

        builder.Entity<RefreshToken>(token =>
        {
            token.HasIndex(t => t.TokenHash).IsUnique();
            token.HasIndex(t => t.FamilyId);
            token.HasIndex(t => t.UserId);
        });

        builder.Entity<SignInChallenge>(challenge => challenge.HasIndex(c => c.TokenHash).IsUnique());

        builder.Entity<UsedTotpStep>(used =>
        {
            used.HasKey(u => u.UserId);
            used.HasOne<CloudStoreUser>().WithOne().HasForeignKey<UsedTotpStep>(u => u.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<ClientThrottle>(throttle =>
        {
            throttle.HasKey(t => t.Client);
            throttle.Property(t => t.Client).HasMaxLength(64);
        });

        builder.Entity<AccountToken>(token =>
        {
            token.HasIndex(t => t.TokenHash).IsUnique();
            token.HasIndex(t => new { t.UserId, t.Purpose });
            token.Property(t => t.Purpose).HasMaxLength(32);
            token.HasOne<CloudStoreUser>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        builder.Entity<Notification>(notification =>
        {
            notification.HasIndex(n => new { n.OrganizationId, n.Kind, n.Key }).IsUnique();
            notification.Property(n => n.Kind).HasMaxLength(32);
            notification.Property(n => n.Key).HasMaxLength(64);
            notification.Property(n => n.Message).HasMaxLength(400);
            notification.HasOne<Organization>().WithMany().HasForeignKey(n => n.OrganizationId);
        });

        builder.Entity<Licences.Licence>(licence =>
        {
            licence.HasIndex(l => new { l.OrganizationId, l.State });
            // One licence per camera, and a partner key adds its licence once: the database holds both rules under races.
            licence.HasIndex(l => l.CameraId).IsUnique();
            licence.HasIndex(l => l.PartnerKeyHash).IsUnique();
            licence.Property(l => l.Source).HasMaxLength(16);
            licence.Property(l => l.PartnerKeyHint).HasMaxLength(8);
            licence.Property(l => l.State).HasConversion<string>().HasMaxLength(16);
            licence.Property(l => l.LapseReason).HasMaxLength(200);
            licence.HasOne<Organization>().WithMany().HasForeignKey(l => l.OrganizationId);
        });

        builder.Entity<LegalHold>(hold =>
        {
            hold.HasIndex(h => new { h.CameraId, h.From });
            hold.HasIndex(h => h.OrganizationId);
            hold.Property(h => h.CaseReference).HasMaxLength(LegalHold.CaseReferenceLength);
            hold.Property(h => h.CreatedBy).HasMaxLength(200);
            hold.Property(h => h.ReleasedBy).HasMaxLength(200);
            hold.HasOne<Organization>().WithMany().HasForeignKey(h => h.OrganizationId);
            hold.HasOne<Camera>().WithMany().HasForeignKey(h => h.CameraId);
        });

        builder.Entity<OrganizationTombstone>(tombstone =>
        {
            tombstone.HasKey(t => t.OrganizationId);
            tombstone.Property(t => t.NameSha256).HasMaxLength(64);
            tombstone.Property(t => t.HomeRegion).HasMaxLength(32);
            tombstone.Property(t => t.DeletedBy).HasMaxLength(200);
            tombstone.Property(t => t.KeysDestroyedIn).HasMaxLength(200);
            tombstone.Ignore(t => t.KeysDestroyedRegions);
        });

        builder.Entity<AuditEntry>(entry =>
        {
            entry.HasIndex(e => new { e.OrganizationId, e.Time });
            entry.Property(e => e.Actor).HasMaxLength(200);
            entry.Property(e => e.SourceAddress).HasMaxLength(64);
            entry.Property(e => e.Action).HasMaxLength(64);
            entry.Property(e => e.Target).HasMaxLength(200);
            entry.Property(e => e.Outcome).HasMaxLength(100);
            entry.Property(e => e.RepeatKey).HasMaxLength(64);
            entry.HasIndex(e => e.RepeatKey).IsUnique().HasFilter(DirectoryStatements.RepeatKeyFilter);
        });
    }
}

/// <summary>Directory statements EF cannot express, kept here so database-specific SQL stays in the data layer.</summary>
public static class DirectoryStatements
{
    /// <summary>
    /// Records <paramref name="step"/> as the user's last used authenticator step if it is later than the one stored, in one
    /// statement (an upsert with a condition; the same text, identifiers quoted, runs on SQLite and PostgreSQL), so of parallel requests with the
    /// same code exactly one gets true.
    /// </summary>
    public static async Task<bool> ClaimTotpStepAsync(this DirectoryDbContext db, Guid userId, long step, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO "UsedTotpSteps" ("UserId", "LastStep") VALUES ({userId}, {step})
            ON CONFLICT ("UserId") DO UPDATE SET "LastStep" = excluded."LastStep" WHERE "UsedTotpSteps"."LastStep" < excluded."LastStep"
            """,
            cancellationToken) == 1;

    /// <summary>The filter of the unique index on <see cref="AuditEntry.RepeatKey"/> (quoted: the same text serves PostgreSQL).</summary>
    public const string RepeatKeyFilter = "\"RepeatKey\" IS NOT NULL";

    /// <summary>
    /// Writes <paramref name="entry"/>, or, when a row with its <see cref="AuditEntry.RepeatKey"/> exists, adds one to
    /// that row's count: one upsert, so parallel repeats on any instance are each counted once.
    /// </summary>
    public static async Task CountRepeatedAuditEntryAsync(this DirectoryDbContext db, AuditEntry entry, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO "AuditEntries" ("Time", "OrganizationId", "Actor", "SourceAddress", "Action", "Target", "Outcome", "Count", "RepeatKey")
            VALUES ({entry.Time.ToUnixTimeMilliseconds()}, {entry.OrganizationId}, {entry.Actor}, {entry.SourceAddress}, {entry.Action}, {entry.Target}, {entry.Outcome}, 1, {entry.RepeatKey})
            ON CONFLICT ("RepeatKey") WHERE "RepeatKey" IS NOT NULL DO UPDATE SET "Count" = "AuditEntries"."Count" + 1
            """,
            cancellationToken);

    /// <summary>
    /// Counts one failed attempt of <paramref name="client"/> in one statement (an upsert; the same text runs on SQLite and
    /// PostgreSQL, which both evaluate every SET expression against the row as it was): a window that has ended starts
    /// again at <paramref name="now"/>, and the failure that reaches <paramref name="limit"/> blocks the client until
    /// <paramref name="blockedUntil"/> and empties the window. Parallel failures, on any instance, are each counted once.
    /// </summary>
    public static async Task CountClientFailureAsync(
        this DirectoryDbContext db, string client, DateTimeOffset now, TimeSpan window, int limit, DateTimeOffset blockedUntil, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var windowEndedMs = (now - window).ToUnixTimeMilliseconds();
        var blockedUntilMs = blockedUntil.ToUnixTimeMilliseconds();
        var firstFailures = limit <= 1 ? 0 : 1;
        var firstBlockedUntilMs = limit <= 1 ? blockedUntilMs : 0L;
        await db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO "ClientThrottles" ("Client", "WindowStart", "Failures", "BlockedUntil")
            VALUES ({client}, {nowMs}, {firstFailures}, {firstBlockedUntilMs})
            ON CONFLICT ("Client") DO UPDATE SET
                "WindowStart" = CASE WHEN "ClientThrottles"."WindowStart" <= {windowEndedMs} THEN {nowMs} ELSE "ClientThrottles"."WindowStart" END,
                "Failures" = CASE
                    WHEN "ClientThrottles"."WindowStart" <= {windowEndedMs} THEN {firstFailures}
                    WHEN "ClientThrottles"."Failures" + 1 >= {limit} THEN 0
                    ELSE "ClientThrottles"."Failures" + 1 END,
                "BlockedUntil" = CASE
                    WHEN "ClientThrottles"."WindowStart" <= {windowEndedMs} THEN CASE WHEN {firstBlockedUntilMs} > 0 THEN {firstBlockedUntilMs} ELSE "ClientThrottles"."BlockedUntil" END
                    WHEN "ClientThrottles"."Failures" + 1 >= {limit} THEN {blockedUntilMs}
                    ELSE "ClientThrottles"."BlockedUntil" END
            """,
            cancellationToken);
    }
}

/// <summary>Times as Unix milliseconds: SQLite cannot compare DateTimeOffset in queries, and milliseconds compare and sort everywhere.</summary>
public sealed class UnixMillisecondsConverter() : ValueConverter<DateTimeOffset, long>(
    value => value.ToUnixTimeMilliseconds(),
    stored => DateTimeOffset.FromUnixTimeMilliseconds(stored));

using System.Collections.Concurrent;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Recordings;
using CloudStore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Regional;

/// <summary>The configured regions: each one's storage and index, opened on first use.</summary>
public sealed class RegionCatalog(IOptions<RegionCatalogOptions> options, IOptions<TlsOptions> tls, IServiceProvider services)
{
    readonly ConcurrentDictionary<string, ICameraStorage> _storage = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, PooledDbContextFactory<IndexDbContext>> _indexContexts = new(StringComparer.Ordinal);

    public IEnumerable<string> Configured => options.Value.Keys;

    public bool IsConfigured(string region) => options.Value.ContainsKey(region);

    public ICameraStorage Storage(string region) => _storage.GetOrAdd(region, r => Region(r).Storage switch
    {
        { Kind: CredentialsResponse.AzureBlob } azure => AzureCameraStorage.Create(azure, tls.Value.CaCertificateFile),
        { Kind: CredentialsResponse.S3 } s3 => S3CameraStorage.Create(s3, tls.Value.CaCertificateFile),
        var other => throw new InvalidOperationException($"Region '{r}': unknown storage kind '{other.Kind}' (azure-blob or s3)."),
    });

    /// <summary>A context on the region's index, from the region's pool; disposing it returns it there.</summary>
    public IndexDbContext OpenIndex(string region) => _indexContexts.GetOrAdd(region, r =>
    {
        // One pool per region, made on first use: a request takes a context that is already set up (EF's internal
        // services resolved, options built) instead of making one, which cost every index call a noticeable share of its CPU.
        // The context holds no state of its own, so a pooled one is as good as new (EF clears its change tracker on return).
        var index = Region(r).Index;
        return new PooledDbContextFactory<IndexDbContext>(DatabaseProvider.Options<IndexDbContext>(index.Provider, index.ConnectionString, SignedIn(index)));
    }).CreateDbContext();

    /// <summary>Migrates each configured region's index at start, or checks that someone has (as for the directory).</summary>
    public async Task InitializeAsync(bool applyMigrations, CancellationToken cancellationToken)
    {
        foreach (var region in Configured)
        {
            var index = Region(region).Index;
            if (applyMigrations)
            {
                await DatabaseMigrations.MigrateIndexAsync(index.Provider, index.ConnectionString, cancellationToken, SignedIn(index));
            }
            else if (await DatabaseMigrations.PendingIndexAsync(index.Provider, index.ConnectionString, cancellationToken, SignedIn(index)) is [var first, ..] pending)
            {
                throw new InvalidOperationException(
                    $"Region {region}: the index schema is older than this build ({pending.Count} migrations pending, the first {first}): run the `migrate` operations command, then start again.");
            }
        }
    }

    /// <summary>Migrates every configured region's index (the <c>migrate</c> command); returns the migrations applied per region.</summary>
    public async Task<Dictionary<string, IReadOnlyList<string>>> MigrateAllAsync(CancellationToken cancellationToken)
    {
        var applied = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var region in Configured)
        {
            var index = Region(region).Index;
            applied[region] = await DatabaseMigrations.MigrateIndexAsync(index.Provider, index.ConnectionString, cancellationToken, SignedIn(index));
        }

        return applied;
    }

    Npgsql.NpgsqlDataSource? SignedIn(RegionIndexOptions index) => services.SignedInDataSource(index.Provider, index.ConnectionString, index.Credential);

    RegionOptions Region(string region) =>
        options.Value.TryGetValue(region, out var configured) ? configured : throw new InvalidOperationException($"Region '{region}' is not configured.");
}

public static class RegionServices
{
    public static IServiceCollection AddRegions(this IServiceCollection services)
    {
        services.AddOptions<RegionCatalogOptions>().BindConfiguration(RegionCatalogOptions.Section)
            .Validate(regions => regions.Keys.All(CloudStore.Contracts.Regions.All.Contains), "Regions: only known region ids (au-sydney, ca-toronto, eu-frankfurt, uk-london, us-virginia).")
            .Validate(regions => regions.Values.All(r => DatabaseProvider.IsKnown(r.Index.Provider)), $"Regions:*:Index:Provider must be {DatabaseProvider.Choices}.")
            .Validate(regions => regions.Values.All(r => DatabaseProvider.IsValidCredential(r.Index.Provider, r.Index.Credential)),
                $"Regions:*:Index:Credential must be {DatabaseCredential.Choices} ('managed-identity' with postgresql only).")
            .ValidateOnStart();
        services.AddEntraDataSources();
        return services.AddSingleton<RegionCatalog>();
    }
}

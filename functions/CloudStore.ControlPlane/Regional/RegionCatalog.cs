using System.Collections.Concurrent;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Recordings;
using CloudStore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Regional;

/// <summary>The configured regions: each one's storage and index, opened on first use.</summary>
public sealed class RegionCatalog(IOptions<RegionCatalogOptions> options, IOptions<TlsOptions> tls)
{
    readonly ConcurrentDictionary<string, ICameraStorage> _storage = new(StringComparer.Ordinal);

    public IEnumerable<string> Configured => options.Value.Keys;

    public bool IsConfigured(string region) => options.Value.ContainsKey(region);

    public ICameraStorage Storage(string region) => _storage.GetOrAdd(region, r => Region(r).Storage switch
    {
        { Kind: CredentialsResponse.AzureBlob } azure => AzureCameraStorage.Create(azure, tls.Value.CaCertificateFile),
        { Kind: CredentialsResponse.S3 } s3 => S3CameraStorage.Create(s3, tls.Value.CaCertificateFile),
        var other => throw new InvalidOperationException($"Region '{r}': unknown storage kind '{other.Kind}' (azure-blob or s3)."),
    });

    public IndexDbContext OpenIndex(string region) =>
        new(new DbContextOptionsBuilder<IndexDbContext>().UseSqlite(Region(region).Index.ConnectionString).Options);

    /// <summary>Creates each configured region's index schema (WAL mode: readers go on while one request writes).</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        foreach (var region in Configured)
        {
            var connection = new SqliteConnectionStringBuilder(Region(region).Index.ConnectionString);
            if (Path.GetDirectoryName(Path.GetFullPath(connection.DataSource)) is { } folder)
            {
                Directory.CreateDirectory(folder);
            }

            await using var index = OpenIndex(region);
            await index.Database.OpenConnectionAsync(cancellationToken);
            await index.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            await index.Database.EnsureCreatedAsync(cancellationToken);
        }
    }

    RegionOptions Region(string region) =>
        options.Value.TryGetValue(region, out var configured) ? configured : throw new InvalidOperationException($"Region '{region}' is not configured.");
}

public static class RegionServices
{
    public static IServiceCollection AddRegions(this IServiceCollection services)
    {
        services.AddOptions<RegionCatalogOptions>().BindConfiguration(RegionCatalogOptions.Section)
            .Validate(regions => regions.Keys.All(CloudStore.Contracts.Regions.All.Contains), "Regions: only known region ids (au-sydney, ca-toronto, eu-frankfurt, uk-london, us-virginia).")
            .ValidateOnStart();
        return services.AddSingleton<RegionCatalog>();
    }
}

using System.Net;
using System.Text.Json;
using CloudStore.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.Observability;

/// <summary>The library's EF Core check, as a host registers it: <c>AddHealthChecks().AddDatabase&lt;TContext&gt;(name)</c>.</summary>
public sealed class DatabaseHealthTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-db-health-").FullName;

    [Fact]
    public async Task DatabaseCheck_DatabaseMissingThenCreated_Answers503Then200()
    {
        var file = Path.Combine(_folder, "probe.db");
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.AddCloudStoreServiceDefaults("cloudstore-test");
        // Read-only, as a database the host does not own: a missing file is not made again.
        builder.Services.AddDbContext<ProbeContext>(db => db.UseSqlite($"Data Source={file};Mode=ReadOnly;Pooling=False"));
        builder.Services.AddHealthChecks().AddDatabase<ProbeContext>("directory-database");
        await using var app = builder.Build();
        app.MapCloudStoreHealth("/api/health");
        await app.StartAsync();
        using var client = app.GetTestClient();

        var (missingStatus, missing) = await HealthAsync(client);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, missingStatus);
        Assert.Equal("Unhealthy", missing.GetProperty("checks").GetProperty("directory-database").GetProperty("status").GetString());
        Assert.DoesNotContain(_folder, missing.GetRawText(), StringComparison.Ordinal);

        var options = new DbContextOptionsBuilder<ProbeContext>().UseSqlite($"Data Source={file};Pooling=False").Options;
        await using (var owner = new ProbeContext(options))
        {
            await owner.Database.EnsureCreatedAsync();
        }

        var (status, report) = await HealthAsync(client);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("directory-database").GetProperty("status").GetString());
    }

    static async Task<(HttpStatusCode Status, JsonElement Report)> HealthAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/health");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    sealed class ProbeContext(DbContextOptions<ProbeContext> options) : DbContext(options)
    {
        public DbSet<ProbeRow> Rows => Set<ProbeRow>();
    }

    sealed record ProbeRow(int Id);
}

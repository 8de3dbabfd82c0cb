using System.Collections.Concurrent;
using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace CloudStore.Hosting;

/// <summary>
/// How a host signs in to a PostgreSQL database (the <c>Credential</c> setting beside each of its connection strings):
/// <c>password</c>, with what the connection string carries (the default: the local stack, the tests, a server of one's
/// own), or <c>managed-identity</c>, with an Entra ID access token of the host's managed identity as the password, which is
/// how Azure Database for PostgreSQL with Entra authentication signs in an app; the connection string then has no password.
/// </summary>
public static class DatabaseCredential
{
    public const string Password = "password";
    public const string ManagedIdentity = "managed-identity";
    public const string Choices = "'password' or 'managed-identity'";

    public static bool IsKnown(string? credential) => credential is Password or ManagedIdentity;

    /// <summary>Registers <see cref="EntraDataSources"/> with the host's managed identity, unless something (a test) registered its own.</summary>
    public static IServiceCollection AddEntraDataSources(this IServiceCollection services)
    {
        services.TryAddSingleton(_ => new EntraDataSources(AzureIdentity.ManagedIdentity()));
        return services;
    }
}

/// <summary>The one way the hosts' Azure clients (regional storage, the databases) choose their Entra ID identity.</summary>
public static class AzureIdentity
{
    /// <summary>
    /// The host's managed identity: Azure.Identity's <see cref="DefaultAzureCredential"/>, whose managed-identity step takes
    /// the user-assigned identity whose client id is <c>AZURE_CLIENT_ID</c> (every app's setting in infra/azure), the
    /// system-assigned one without it.
    /// </summary>
    public static TokenCredential ManagedIdentity() => new DefaultAzureCredential();
}

/// <summary>
/// The host's PostgreSQL data sources that sign in with Entra ID tokens: one per connection string, built on first use and
/// kept for the host's life (each holds its connection pool and its current token). Npgsql asks for a token before the
/// first connection and every <see cref="TokenRefresh"/> after (<see cref="NpgsqlDataSourceBuilder.UsePeriodicPasswordProvider"/>);
/// the credential caches tokens and renews them before they expire (they last an hour or more), so each new connection
/// signs in with a valid one. A connection already open stays open past its token's expiry: PostgreSQL checks it at sign-in.
/// </summary>
public sealed class EntraDataSources(TokenCredential credential) : IAsyncDisposable
{
    /// <summary>The audience of Azure Database for PostgreSQL's Entra tokens (the same in every Azure region).</summary>
    public const string Scope = "https://ossrdbms-aad.database.windows.net/.default";

    public static readonly TimeSpan TokenRefresh = TimeSpan.FromMinutes(5);

    static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(10);

    readonly ConcurrentDictionary<string, Lazy<NpgsqlDataSource>> _sources = new(StringComparer.Ordinal);

    /// <summary>The data source for <paramref name="connectionString"/>, which must carry no password (the token is the password).</summary>
    public NpgsqlDataSource For(string connectionString) =>
        _sources.GetOrAdd(connectionString, key => new Lazy<NpgsqlDataSource>(() => Build(key))).Value;

    NpgsqlDataSource Build(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (!string.IsNullOrEmpty(builder.ConnectionStringBuilder.Password))
        {
            throw new InvalidOperationException(
                $"A connection string signed in with '{DatabaseCredential.ManagedIdentity}' carries no password: the Entra ID token is the password.");
        }

        builder.UsePeriodicPasswordProvider(
            async (_, cancellationToken) => (await credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken)).Token,
            TokenRefresh,
            RetryAfterFailure);
        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources.Values.Where(s => s.IsValueCreated))
        {
            await source.Value.DisposeAsync();
        }
    }
}

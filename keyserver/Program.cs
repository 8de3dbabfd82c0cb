using System.Security.Claims;
using CloudStore.Contracts;
using CloudStore.Hosting;
using CloudStore.KeyServer;
using CloudStore.KeyServer.KeyStores;
using CloudStore.KeyServer.Tokens;
using CloudStore.KeyServer.Unwrap;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using System.Threading.RateLimiting;

// The key server. It validates bearer tokens itself, from the issuer's published keys, and is the only
// process that uses the organisations' private keys.
var builder = WebApplication.CreateBuilder(args);
builder.UseCloudStoreKestrel(maxRequestBodyBytes: 16 * 1024);
builder.AddCloudStoreServiceDefaults("cloudstore-keyserver");
builder.Services.AddCloudStoreProblemDetails();

var options = builder.Configuration.GetSection(KeyServerOptions.Section).Get<KeyServerOptions>() ?? new KeyServerOptions();
if (!Uri.TryCreate(options.TokenIssuer, UriKind.Absolute, out var issuer) || issuer.Scheme != Uri.UriSchemeHttps)
{
    throw new InvalidOperationException("KeyServer:TokenIssuer must be the https URL of the functions API (…/api).");
}

builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(jwt =>
{
    jwt.Authority = options.TokenIssuer;
    jwt.Audience = Audiences.KeyServer;
    jwt.MapInboundClaims = false;
    jwt.RequireHttpsMetadata = true;
    jwt.BackchannelHttpHandler = TrustedHttp.CreateHandler(builder.Configuration[$"{TlsOptions.Section}:{nameof(TlsOptions.CaCertificateFile)}"]);
    jwt.TokenValidationParameters.ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256];
    jwt.TokenValidationParameters.ValidTypes = ["at+jwt"];
    jwt.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
    jwt.TokenValidationParameters.NameClaimType = ClaimNames.Subject;
    jwt.TokenValidationParameters.RoleClaimType = ClaimNames.Role;
    // A player's token is validated once, then found again by its hash until it expires or the issuer's keys change.
    var validator = jwt.TokenHandlers.Single();
    jwt.TokenHandlers.Clear();
    jwt.TokenHandlers.Add(new ValidatedTokenCache(validator, TimeProvider.System));
});
builder.Services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt =>
{
    // Only keys the issuer publishes now: IdentityModel's "last known good" fallback would still accept a token signed
    // by a key taken out of the JWKS, for up to an hour after the key server fetched the JWKS without it.
    if (jwt.ConfigurationManager is BaseConfigurationManager issuer)
    {
        issuer.UseLastKnownGoodConfiguration = false;
    }
});
builder.Services.AddAuthorizationBuilder()
    .AddPolicy(PublicKeyEndpoints.ServicePolicy, policy => policy.RequireClaim(ClaimNames.Role, Roles.Service))
    .AddPolicy(UnwrapEndpoints.PeoplePolicy, policy => policy.RequireClaim(ClaimNames.Role, Roles.UserRoles));
builder.Services.AddSingleton<LiveGrants>();
// Made by the container so that it is disposed at shutdown, after the last request: queued audit rows are written first.
builder.Services.AddSingleton(provider => new KeyAudit(options.AuditDatabase, provider.GetRequiredService<ILogger<KeyAudit>>()));
builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
{
    if (!string.IsNullOrEmpty(options.PlayerOrigin))
    {
        policy.WithOrigins(options.PlayerOrigin).WithMethods("GET").WithHeaders("Authorization").SetPreflightMaxAge(BrowserCors.PreflightMaxAge);
    }
}));
builder.Services.AddRateLimiter(limiter =>
{
    limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
    limiter.AddPolicy(UnwrapEndpoints.PerUserLimit, context => RateLimitPartition.GetFixedWindowLimiter(
        context.User.FindFirstValue(ClaimNames.Subject) ?? context.Connection.RemoteIpAddress?.ToString() ?? "anonymous",
        _ => new FixedWindowRateLimiterOptions { PermitLimit = options.UnwrapsPerUserPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
});
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddKeyStore();
var health = builder.Services.AddHealthChecks().AddCheck<KeyAudit>("audit-database");
var keyStores = builder.Configuration.GetSection(KeyServerOptions.Section).Get<KeyStoreOptions>() ?? new KeyStoreOptions();
if (keyStores.KeyStore == KeyStoreKind.Local)
{
    Directory.CreateDirectory(keyStores.KeyStoreRoot); // The store makes it on first use; health checks it from the start.
    health.AddFolderReadable("key-store", keyStores.KeyStoreRoot);
}

var app = builder.Build();
app.UseCloudStoreProblemDetails();
app.UseSecurityHeaders(SecurityHeaders.ApiContentSecurityPolicy, noStore: true);
app.UseCors();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapCloudStoreHealth("/health");
app.MapGet("/v1/caller", (ClaimsPrincipal user) => TypedResults.Ok(new
{
    subject = user.FindFirstValue(ClaimNames.Subject),
    organization = user.FindFirstValue(ClaimNames.Organization),
    role = user.FindFirstValue(ClaimNames.Role),
})).RequireAuthorization();
app.MapPublicKeys();
app.MapUnwrap();

await app.RunAsync();

/// <summary>Public so that tests can host the key server in process.</summary>
public partial class Program;

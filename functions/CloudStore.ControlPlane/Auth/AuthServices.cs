using System.Security.Claims;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Users;
using CloudStore.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.ControlPlane.Auth;

/// <summary>Policy names for route groups.</summary>
public static class Policies
{
    public const string Administrator = "administrator";

    /// <summary>Any person of the organisation: administrator, operator or viewer.</summary>
    public const string Member = "member";

    /// <summary>An enrolled device that is still active.</summary>
    public const string Device = "device";

    /// <summary>People who may see recordings: administrators and operators (viewers may not).</summary>
    public const string Recordings = "recordings";
}

public static class AuthServices
{
    const string CloudStoreScheme = "cloudstore";
    const string BearerScheme = "bearer";

    public static IHostApplicationBuilder AddAuth(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section)
            .Validate(o => o.AccessTokenLifetime > TimeSpan.Zero && o.AccessTokenLifetime <= TimeSpan.FromMinutes(15), "Auth:AccessTokenLifetime must be at most 15 minutes.")
            .Validate(o => Uri.TryCreate(o.Issuer, UriKind.Absolute, out var issuer) && issuer.Scheme == Uri.UriSchemeHttps, "Auth:Issuer must be an https URL.")
            .Validate(o => o.InvitationLifetime >= TimeSpan.FromHours(1) && o.InvitationLifetime <= TimeSpan.FromDays(30), "Auth:InvitationLifetime must be from 1 hour to 30 days.")
            .Validate(o => o.PasswordResetLifetime >= TimeSpan.FromMinutes(5) && o.PasswordResetLifetime <= TimeSpan.FromHours(24), "Auth:PasswordResetLifetime must be from 5 minutes to 24 hours.")
            .ValidateOnStart();
        // One key ring for every instance, in the directory: a secret sealed by one instance opens on another.
        services.AddDataProtection().SetApplicationName("cloudstore-functions").PersistKeysToDbContext<DirectoryDbContext>();
        services.AddSingleton<SigningKeys>();
        services.AddSingleton<AccessTokens>();
        services.AddScoped<SignInThrottle>();
        services.AddScoped<RefreshTokens>();
        services.AddScoped<Authenticator>();
        services.AddScoped<SignInService>();
        services.AddScoped<ExternalSignIn>();
        services.AddScoped<MyAccount>();
        services.AddScoped<UserLifecycle>();
        services.AddScoped<AccountLinks>();

        // Read here, not through IOptions: the external issuers decide which authentication schemes exist and the
        // lockout rule configures Identity, both at registration. The same section is validated on start above.
        var auth = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        services.AddIdentityCore<CloudStoreUser>(identity =>
            {
                identity.User.RequireUniqueEmail = true;
                identity.Password.RequiredLength = Limits.PasswordMinLength;
                identity.Password.RequireDigit = false;
                identity.Password.RequireLowercase = false;
                identity.Password.RequireUppercase = false;
                identity.Password.RequireNonAlphanumeric = false;
                identity.Password.RequiredUniqueChars = 1;
                identity.Lockout.AllowedForNewUsers = true;
                identity.Lockout.MaxFailedAccessAttempts = auth.LockoutThreshold;
                identity.Lockout.DefaultLockoutTimeSpan = auth.LockoutDuration;
            })
            .AddEntityFrameworkStores<DirectoryDbContext>()
            .AddUserStore<ProtectedUserStore>()
            .AddTokenProvider<AuthenticatorTokenProvider<CloudStoreUser>>(TokenOptions.DefaultAuthenticatorProvider)
            .AddPasswordValidator<PasswordPolicy>();

        var authentication = services.AddAuthentication(BearerScheme)
            .AddPolicyScheme(BearerScheme, "CloudStore or external issuer", policy => policy.ForwardDefaultSelector = context =>
                SchemeForIssuer(context, auth.ExternalIssuers))
            .AddJwtBearer(CloudStoreScheme);
        services.AddOptions<JwtBearerOptions>(CloudStoreScheme).Configure<SigningKeys, IOptions<AuthOptions>>((jwt, keys, options) =>
        {
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = options.Value.Issuer,
                ValidAudience = Audiences.Api,
                IssuerSigningKey = keys.SecurityKey,
                ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
                ValidTypes = ["at+jwt"],
                ClockSkew = TimeSpan.FromSeconds(30),
                NameClaimType = ClaimNames.Subject,
                RoleClaimType = ClaimNames.Role,
            };
        });

        for (var i = 0; i < auth.ExternalIssuers.Count; i++)
        {
            var external = auth.ExternalIssuers[i];
            authentication.AddJwtBearer(ExternalScheme(i), jwt =>
            {
                jwt.Authority = external.Issuer;
                jwt.Audience = external.Audience;
                jwt.MapInboundClaims = false;
                jwt.RequireHttpsMetadata = true;
                jwt.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
                jwt.Events = new JwtBearerEvents { OnTokenValidated = context => MapExternalPrincipal(context, external) };
            });
            services.AddOptions<JwtBearerOptions>(ExternalScheme(i)).Configure<IOptions<TlsOptions>>((jwt, tls) =>
                jwt.BackchannelHttpHandler = TrustedHttp.CreateHandler(tls.Value.CaCertificateFile));
        }

        services.AddScoped<IAuthorizationHandler, ActiveDeviceHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, Platform.ProblemAuthorizationResults>();
        services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Administrator, policy => policy.RequireAuthenticatedUser().RequireClaim(ClaimNames.Role, Roles.Administrator))
            .AddPolicy(Policies.Member, policy => policy.RequireAuthenticatedUser().RequireClaim(ClaimNames.Role, Roles.UserRoles))
            .AddPolicy(Policies.Recordings, policy => policy.RequireAuthenticatedUser().RequireClaim(ClaimNames.Role, Roles.Administrator, Roles.Operator))
            .AddPolicy(Policies.Device, policy => policy.RequireAuthenticatedUser().RequireClaim(ClaimNames.Role, Roles.Device)
                .AddRequirements(new ActiveDeviceRequirement()));
        return builder;
    }

    /// <summary>The bearer scheme of the configured external issuer at <paramref name="index"/>; <see cref="ExternalSignIn"/> reads its keys.</summary>
    internal static string ExternalScheme(int index) => $"external-{index}";

    /// <summary>Sends a bearer token to the scheme of the issuer it names; anything else goes to ours, which refuses it.</summary>
    static string SchemeForIssuer(HttpContext context, List<ExternalIssuerOptions> externals)
    {
        if (externals.Count == 0)
        {
            return CloudStoreScheme;
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return CloudStoreScheme;
        }

        var handler = new JsonWebTokenHandler();
        var token = header["Bearer ".Length..].Trim();
        if (!handler.CanReadToken(token))
        {
            return CloudStoreScheme;
        }

        var issuer = handler.ReadJsonWebToken(token).Issuer;
        var index = externals.FindIndex(e => string.Equals(e.Issuer, issuer, StringComparison.Ordinal));
        return index < 0 ? CloudStoreScheme : ExternalScheme(index);
    }

    /// <summary>
    /// Turns a validated external token into a CloudStore principal: the configured organisation and
    /// the highest CloudStore role its role claims map to. No mapped role, no access.
    /// </summary>
    static Task MapExternalPrincipal(TokenValidatedContext context, ExternalIssuerOptions external)
    {
        var principal = context.Principal!;
        var role = ExternalRoles.Map(principal.FindAll(external.RoleClaim).Select(claim => claim.Value), external);
        var subject = principal.FindFirstValue("sub");
        if (role is null || subject is null)
        {
            context.Fail("The external token carries no subject or no role that maps to a CloudStore role.");
            return Task.CompletedTask;
        }

        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimNames.Subject, $"ext:{external.Issuer}#{subject}"),
                new Claim(ClaimNames.Organization, external.OrganizationId.ToString()),
                new Claim(ClaimNames.Role, role),
                new Claim(ClaimNames.AuthenticationMethods, "ext"),
            ],
            context.Scheme.Name,
            ClaimNames.Subject,
            ClaimNames.Role);
        context.Principal = new ClaimsPrincipal(identity);
        return Task.CompletedTask;
    }
}

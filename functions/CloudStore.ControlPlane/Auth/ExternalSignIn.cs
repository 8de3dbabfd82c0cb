using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// Single sign-on: the web player signed a person in at their organisation's identity provider (authorization code
/// with PKCE) and hands over the ID token it received. The token is checked against that provider's published keys,
/// its issuer decides the organisation, and its role claim the role; the person becomes (or already is) a user of that
/// organisation, linked to the provider's subject, and gets CloudStore's own tokens, so the key server and every API
/// treat them as any other user, with the same audit.
/// </summary>
/// <remarks>
/// The first sign-in creates the user with the token's email address; a later one updates the role from the claim
/// (the provider decides roles). A disabled user stays refused. Deleting an SSO user here does not stop the provider
/// from asserting them again: disable them, or remove them at the provider.
/// </remarks>
public sealed class ExternalSignIn(
    DirectoryDbContext db,
    UserManager<CloudStoreUser> users,
    RefreshTokens sessions,
    SignInThrottle throttle,
    AuditLog audit,
    IOptions<AuthOptions> options,
    IOptionsMonitor<JwtBearerOptions> bearers,
    TimeProvider time)
{
    /// <summary>Marks sessions begun at an external provider (the provider did the password and second factor).</summary>
    public const string Method = "ext";

    public async Task<SignInResult> SignInAsync(string idToken, string client, CancellationToken cancellationToken)
    {
        if (await throttle.IsBlockedAsync(client, cancellationToken))
        {
            await audit.WriteRefusalAsync(null, "anonymous", AuditActions.SignIn, "external", AuditLog.Failure("client-blocked"), cancellationToken);
            return SignInResult.Blocked;
        }

        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        var issuers = options.Value.ExternalIssuers;
        var index = handler.CanReadToken(idToken) ? issuers.FindIndex(e => e.Issuer == handler.ReadJsonWebToken(idToken).Issuer) : -1;
        if (index < 0 || issuers[index].ClientId is not { Length: > 0 } clientId)
        {
            return await FailAsync(null, client, "external", "unknown-issuer", cancellationToken);
        }

        var external = issuers[index];
        var bearer = bearers.Get(AuthServices.ExternalScheme(index));
        var configuration = await bearer.ConfigurationManager!.GetConfigurationAsync(cancellationToken);
        var parameters = bearer.TokenValidationParameters.Clone();
        parameters.ValidIssuer = external.Issuer;
        parameters.ValidAudience = clientId;
        parameters.IssuerSigningKeys = configuration.SigningKeys;
        var validated = await handler.ValidateTokenAsync(idToken, parameters);
        if (!validated.IsValid)
        {
            return await FailAsync(external.OrganizationId, client, "external", "invalid-id-token", cancellationToken);
        }

        var claims = validated.ClaimsIdentity;
        var subject = claims.FindFirst("sub")?.Value;
        var role = ExternalRoles.Map(claims.FindAll(external.RoleClaim).Select(c => c.Value), external);
        // The audit log's target column holds 200 characters; an issuer and subject longer than that are named generically.
        var target = $"ext:{external.Issuer}#{subject}" is { Length: <= 200 } named ? named : "external";
        if (subject is null || role is null)
        {
            return await FailAsync(external.OrganizationId, client, target, role is null ? "no-mapped-role" : "no-subject", cancellationToken);
        }

        var user = await users.FindByLoginAsync(external.Issuer, subject);
        if (user is null)
        {
            var email = claims.FindFirst("email")?.Value;
            if (email is null || email.Length > Data.Limits.EmailLength || await users.FindByEmailAsync(email) is not null)
            {
                // An address already registered belongs to someone else's password: never joined to an external identity.
                return await FailAsync(external.OrganizationId, client, target, email is null ? "no-email" : "email-taken", cancellationToken);
            }

            user = new CloudStoreUser
            {
                Id = Guid.NewGuid(),
                OrganizationId = external.OrganizationId,
                UserName = email,
                Email = email,
                EmailConfirmed = true,
                Role = role,
                CreatedAt = time.GetUtcNow(),
            };
            if (!(await users.CreateAsync(user)).Succeeded || !(await users.AddLoginAsync(user, new UserLoginInfo(external.Issuer, subject, "sso"))).Succeeded)
            {
                return await FailAsync(external.OrganizationId, client, target, "user-not-created", cancellationToken);
            }

            audit.Add(user.OrganizationId, target, AuditActions.UserCreated, $"user:{user.Id}", $"success:sso:{role}");
        }
        else if (user.OrganizationId != external.OrganizationId || user.DisabledAt is not null)
        {
            return await FailAsync(user.OrganizationId, client, $"user:{user.Id}", user.DisabledAt is null ? "other-organization" : "disabled", cancellationToken);
        }
        else if (user.Role != role)
        {
            audit.Add(user.OrganizationId, target, AuditActions.RoleChanged, $"user:{user.Id}", $"success:{user.Role}->{role}");
            user.Role = role;
            await db.WithRetryAsync(user, () => users.UpdateAsync(user), cancellationToken);
        }

        var tokens = sessions.StartSession(user, [Method]);
        audit.Add(user.OrganizationId, $"user:{user.Id}", AuditActions.SignIn, $"user:{user.Id}", "success:sso");
        await db.SaveChangesAsync(cancellationToken);
        return SignInResult.Ok(new SignInResponse(SignInResponse.SignedIn, Tokens: tokens));
    }

    async Task<SignInResult> FailAsync(Guid? organizationId, string client, string target, string reason, CancellationToken cancellationToken)
    {
        await throttle.RecordFailureAsync(client, cancellationToken);
        await audit.WriteAsync(organizationId, "anonymous", AuditActions.SignIn, target, AuditLog.Failure(reason), cancellationToken);
        return SignInResult.Rejected;
    }
}

/// <summary>An external provider's role values, mapped to the highest CloudStore role they give (null: none maps).</summary>
public static class ExternalRoles
{
    public static string? Map(IEnumerable<string> values, ExternalIssuerOptions external)
    {
        var mapped = values.Select(value => external.RoleMap.GetValueOrDefault(value)).Where(Roles.IsUserRole).ToList();
        return Roles.UserRoles.FirstOrDefault(mapped.Contains);
    }
}

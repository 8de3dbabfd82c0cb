using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.ControlPlane.Auth;

/// <summary>Sign-in, sessions, and the documents that let other services validate our tokens.</summary>
public static class AuthEndpoints
{
    static readonly string[] SigningAlgorithms = [SecurityAlgorithms.EcdsaSha256];
    static readonly string[] TokenEndpointAuthMethods = ["private_key_jwt"];
    static readonly string[] ResponseTypes = ["token"];
    static readonly string[] SubjectTypes = ["public"];
    static readonly string[] SupportedClaims = [ClaimNames.Subject, ClaimNames.Organization, ClaimNames.Role, ClaimNames.AuthenticationMethods];

    public static IEndpointRouteBuilder MapAuth(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Sign-in").AllowAnonymous();
        auth.MapPost("/sign-in", SignIn).WithName("AuthSignIn").WithSummary("Step one: email and password.");
        auth.MapPost("/external", External).WithName("AuthExternal").WithSummary("Single sign-on: exchange an ID token from the organisation's identity provider for CloudStore tokens.");
        auth.MapPost("/two-factor", SecondStep).WithName("AuthTwoFactor").WithSummary("Step two: authenticator code or recovery code.");
        auth.MapPost("/authenticator/setup", BeginEnrolment).WithName("AuthAuthenticatorSetup").WithSummary("During sign-in: a new authenticator secret, when enrolment is required.");
        auth.MapPost("/authenticator/confirm", ConfirmEnrolment).WithName("AuthAuthenticatorConfirm").WithSummary("During sign-in: confirm the authenticator with a first code; returns recovery codes once.");
        auth.MapPost("/token", Refresh).WithName("AuthToken").WithSummary("Exchange a refresh token for an access token for the API or the key server.");
        auth.MapPost("/revoke", Revoke).WithName("AuthRevoke").WithSummary("Sign out: revoke a session's refresh tokens.");

        var wellKnown = app.MapGroup("/api/.well-known").WithTags("Discovery").AllowAnonymous();
        wellKnown.MapGet("/openid-configuration", Discovery).WithName("OpenIdConfiguration").WithSummary("OpenID Connect discovery document.");
        wellKnown.MapGet("/jwks.json", (SigningKeys keys) => TypedResults.Json(new { keys = new[] { keys.PublicJwk } })).WithName("Jwks")
            .WithSummary("The public keys that verify CloudStore access tokens.");
        return app;
    }

    static string Client(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    static async Task<Results<Ok<SignInResponse>, ValidationProblem, ProblemHttpResult>> SignIn(
        SignInRequest request, SignInService signIn, HttpContext context, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Text(nameof(request.Email), request.Email, Limits.EmailLength)
            .Text(nameof(request.Password), request.Password, Limits.PasswordMaxLength);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        return Map(await signIn.PasswordAsync(request.Email, request.Password, Client(context), cancellationToken));
    }

    static async Task<Results<Ok<SignInResponse>, ValidationProblem, ProblemHttpResult>> External(
        ExternalSignInRequest request, ExternalSignIn signIn, HttpContext context, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text(nameof(request.IdToken), request.IdToken, Limits.ExternalTokenLength);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        return Map(await signIn.SignInAsync(request.IdToken, Client(context), cancellationToken));
    }

    static async Task<Results<Ok<SignInResponse>, ValidationProblem, ProblemHttpResult>> SecondStep(
        TwoFactorRequest request, SignInService signIn, HttpContext context, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text(nameof(request.Challenge), request.Challenge, 100);
        if (string.IsNullOrEmpty(request.Code) == string.IsNullOrEmpty(request.RecoveryCode))
        {
            validation.Add(nameof(request.Code), "Send either an authenticator code or a recovery code.");
        }

        if ((request.Code?.Length ?? 0) > 16 || (request.RecoveryCode?.Length ?? 0) > 32)
        {
            validation.Add(nameof(request.Code), "Too long.");
        }

        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        return Map(await signIn.SecondStepAsync(request, Client(context), cancellationToken));
    }

    static async Task<Results<Ok<AuthenticatorSetupResponse>, ValidationProblem, ProblemHttpResult>> BeginEnrolment(
        ChallengeRequest request, SignInService signIn, HttpContext context, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text(nameof(request.Challenge), request.Challenge, 100);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var setup = await signIn.BeginEnrolmentAsync(request.Challenge, Client(context), cancellationToken);
        return setup is null ? Problems.SignInFailed() : TypedResults.Ok(setup);
    }

    static async Task<Results<Ok<SignInResponse>, ValidationProblem, ProblemHttpResult>> ConfirmEnrolment(
        AuthenticatorConfirmRequest request, SignInService signIn, HttpContext context, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Text(nameof(request.Challenge), request.Challenge, 100)
            .Text(nameof(request.Code), request.Code, 16);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        return Map(await signIn.ConfirmEnrolmentAsync(request.Challenge, request.Code, Client(context), cancellationToken));
    }

    static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Refresh(
        RefreshRequest request, RefreshTokens sessions, CancellationToken cancellationToken)
    {
        var audience = request.Audience ?? Audiences.Api;
        var validation = new Validation().Text("refresh_token", request.RefreshToken, 100);
        if (!Audiences.IsKnown(audience))
        {
            validation.Add("audience", $"One of {Audiences.Api}, {Audiences.KeyServer}.");
        }

        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var tokens = await sessions.RotateAsync(request.RefreshToken, audience, cancellationToken);
        return tokens is null
            ? TypedResults.Problem(title: "Refresh token not accepted", detail: "Sign in again.", statusCode: StatusCodes.Status401Unauthorized)
            : TypedResults.Ok(tokens);
    }

    static async Task<Results<NoContent, ValidationProblem>> Revoke(
        RevokeRequest request, RefreshTokens sessions, DirectoryDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text("refresh_token", request.RefreshToken, 100);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        if (await sessions.RevokeAsync(request.RefreshToken, cancellationToken) is { } userId)
        {
            var organizationId = await db.Users.Where(u => u.Id == userId).Select(u => (Guid?)u.OrganizationId).SingleOrDefaultAsync(cancellationToken);
            audit.Add(organizationId, $"user:{userId}", AuditActions.SignOut, $"user:{userId}", AuditLog.Success);
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.NoContent();
    }

    static IResult Discovery(IOptions<AuthOptions> options)
    {
        var issuer = options.Value.Issuer.TrimEnd('/');
        return TypedResults.Json(new Dictionary<string, object>
        {
            ["issuer"] = options.Value.Issuer,
            ["jwks_uri"] = issuer + "/.well-known/jwks.json",
            ["token_endpoint"] = issuer + "/auth/token",
            ["revocation_endpoint"] = issuer + "/auth/revoke",
            ["id_token_signing_alg_values_supported"] = SigningAlgorithms,
            ["token_endpoint_auth_methods_supported"] = TokenEndpointAuthMethods,
            ["response_types_supported"] = ResponseTypes,
            ["subject_types_supported"] = SubjectTypes,
            ["claims_supported"] = SupportedClaims,
        });
    }

    static Results<Ok<SignInResponse>, ValidationProblem, ProblemHttpResult> Map(SignInResult result) => result.Failure switch
    {
        null => TypedResults.Ok(result.Response!),
        SignInFailure.ClientBlocked => Problems.Forbidden("Too many failed sign-in attempts", "This client is blocked for a short while."),
        _ => Problems.SignInFailed(),
    };
}

using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Http;

/// <summary>Auth: each function hands its request to the control-plane operation of the same name.</summary>
public sealed class AuthFunctions(OperationTable operations)
{
    [Function(nameof(AuthSignIn))]
    public IResult AuthSignIn([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "auth/sign-in")] HttpRequest request) =>
        operations.Result(nameof(AuthSignIn));

    [Function(nameof(AuthExternal))]
    public IResult AuthExternal([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "auth/external")] HttpRequest request) =>
        operations.Result(nameof(AuthExternal));

    [Function(nameof(AuthTwoFactor))]
    public IResult AuthTwoFactor([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "auth/two-factor")] HttpRequest request) =>
        operations.Result(nameof(AuthTwoFactor));

    [Function(nameof(AuthAuthenticatorSetup))]
    public IResult AuthAuthenticatorSetup([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "auth/authenticator/setup")] HttpRequest request) =>
        operations.Result(nameof(AuthAuthenticatorSetup));

    [Function(nameof(AuthAuthenticatorConfirm))]
    public IResult AuthAuthenticatorConfirm([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "auth/authenticator/confirm")] HttpRequest request) =>
        operations.Result(nameof(AuthAuthenticatorConfirm));

    [Function(nameof(AuthToken))]
    public IResult AuthToken([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "auth/token")] HttpRequest request) =>
        operations.Result(nameof(AuthToken));

    [Function(nameof(AuthRevoke))]
    public IResult AuthRevoke([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "auth/revoke")] HttpRequest request) =>
        operations.Result(nameof(AuthRevoke));

    [Function(nameof(OpenIdConfiguration))]
    public IResult OpenIdConfiguration([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ".well-known/openid-configuration")] HttpRequest request) =>
        operations.Result(nameof(OpenIdConfiguration));

    [Function(nameof(Jwks))]
    public IResult Jwks([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = ".well-known/jwks.json")] HttpRequest request) =>
        operations.Result(nameof(Jwks));
}

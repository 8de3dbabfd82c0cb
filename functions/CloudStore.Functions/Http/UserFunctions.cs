using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Http;

/// <summary>Users: each function hands its request to the control-plane operation of the same name.</summary>
public sealed class UserFunctions(OperationTable operations)
{
    [Function(nameof(ListUsers))]
    public IResult ListUsers([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "users")] HttpRequest request) =>
        operations.Result(nameof(ListUsers));

    [Function(nameof(CreateUser))]
    public IResult CreateUser([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "users")] HttpRequest request) =>
        operations.Result(nameof(CreateUser));

    [Function(nameof(GetUser))]
    public IResult GetUser([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "users/{id:guid}")] HttpRequest request) =>
        operations.Result(nameof(GetUser));

    [Function(nameof(ChangeUserRole))]
    public IResult ChangeUserRole([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "users/{id:guid}/role")] HttpRequest request) =>
        operations.Result(nameof(ChangeUserRole));

    [Function(nameof(DisableUser))]
    public IResult DisableUser([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "users/{id:guid}/disable")] HttpRequest request) =>
        operations.Result(nameof(DisableUser));

    [Function(nameof(EnableUser))]
    public IResult EnableUser([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "users/{id:guid}/enable")] HttpRequest request) =>
        operations.Result(nameof(EnableUser));

    [Function(nameof(DeleteUser))]
    public IResult DeleteUser([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "users/{id:guid}")] HttpRequest request) =>
        operations.Result(nameof(DeleteUser));

    [Function(nameof(ResetUserTwoFactor))]
    public IResult ResetUserTwoFactor([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "users/{id:guid}/two-factor/reset")] HttpRequest request) =>
        operations.Result(nameof(ResetUserTwoFactor));

    [Function(nameof(ResendInvitation))]
    public IResult ResendInvitation([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "users/{id:guid}/invitation")] HttpRequest request) =>
        operations.Result(nameof(ResendInvitation));

    [Function(nameof(StartPasswordReset))]
    public IResult StartPasswordReset([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "users/{id:guid}/password-reset")] HttpRequest request) =>
        operations.Result(nameof(StartPasswordReset));

    [Function(nameof(AcceptInvitation))]
    public IResult AcceptInvitation([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "invitations/accept")] HttpRequest request) =>
        operations.Result(nameof(AcceptInvitation));

    [Function(nameof(CompletePasswordReset))]
    public IResult CompletePasswordReset([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "password-reset")] HttpRequest request) =>
        operations.Result(nameof(CompletePasswordReset));

    [Function(nameof(GetMe))]
    public IResult GetMe([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "me")] HttpRequest request) =>
        operations.Result(nameof(GetMe));

    [Function(nameof(MeRecoveryCodes))]
    public IResult MeRecoveryCodes([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "me/recovery-codes")] HttpRequest request) =>
        operations.Result(nameof(MeRecoveryCodes));

    [Function(nameof(MeChangePassword))]
    public IResult MeChangePassword([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "me/password")] HttpRequest request) =>
        operations.Result(nameof(MeChangePassword));

    [Function(nameof(MeResetTwoFactor))]
    public IResult MeResetTwoFactor([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "me/two-factor/reset")] HttpRequest request) =>
        operations.Result(nameof(MeResetTwoFactor));
}

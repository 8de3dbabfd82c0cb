using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace CloudStore.ControlPlane.Users;

/// <summary>
/// One-time account links: an administrator re-sends an invitation or starts a password reset; the person
/// follows the mailed link (anonymous: the link's token is their proof) and chooses a password.
/// </summary>
public static class AccountLinkEndpoints
{
    /// <summary>A link token is 43 base64url characters; anything much longer is not one.</summary>
    const int TokenMaxLength = 100;

    public static IEndpointRouteBuilder MapAccountLinks(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/users").WithTags("Users").RequireAuthorization(Policies.Administrator);
        users.MapPost("/{id:guid}/invitation", Resend).WithName("ResendInvitation")
            .WithSummary("Send an invited user a new invitation link; the previous link stops working.");
        users.MapPost("/{id:guid}/password-reset", StartReset).WithName("StartPasswordReset")
            .WithSummary("End a user's sessions at once and mail them a one-time link to choose a new password.");

        var links = app.MapGroup("/api").WithTags("Account links").AllowAnonymous();
        links.MapPost("/invitations/accept", Accept).WithName("AcceptInvitation")
            .WithSummary("The invited person chooses their password with the token from the invitation link (once).");
        links.MapPost("/password-reset", CompleteReset).WithName("CompletePasswordReset")
            .WithSummary("Set a new password with the token from a reset link (once); ends every session.");
        return app;
    }

    /// <summary>The relay did not take the message; what was stored stays, and the administrator can send again.</summary>
    internal static ProblemHttpResult MailNotSent(string detail) =>
        TypedResults.Problem(title: "Mail not sent", detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable);

    static async Task<Results<NoContent, ProblemHttpResult>> Resend(Guid id, HttpContext context, AccountLinks links, CancellationToken cancellationToken) =>
        (await links.ResendInvitationAsync(Caller.From(context.User), id, cancellationToken)).Outcome switch
        {
            LinkOutcome.Done => TypedResults.NoContent(),
            LinkOutcome.AlreadyAccepted => Problems.Conflict("Invitation already accepted", "This user has a password; start a password reset instead."),
            LinkOutcome.MailNotSent => MailNotSent("A new link is stored and the previous one no longer works; send the invitation again once mail works."),
            _ => Problems.NotFound("user"),
        };

    static async Task<Results<NoContent, ProblemHttpResult>> StartReset(Guid id, HttpContext context, AccountLinks links, CancellationToken cancellationToken) =>
        (await links.StartPasswordResetAsync(Caller.From(context.User), id, cancellationToken)).Outcome switch
        {
            LinkOutcome.Done => TypedResults.NoContent(),
            LinkOutcome.NotAccepted => Problems.Conflict("Invitation not accepted yet", "This user has no password yet; send the invitation again instead."),
            LinkOutcome.MailNotSent => MailNotSent("The user's sessions have ended; start the reset again once mail works."),
            _ => Problems.NotFound("user"),
        };

    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Accept(
        AcceptInvitationRequest request, HttpContext context, AccountLinks links, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Text(nameof(request.Token), request.Token, TokenMaxLength)
            .Text(nameof(request.Password), request.Password, Limits.PasswordMaxLength);
        return validation.HasErrors
            ? validation.Problem()
            : Map(await links.AcceptInvitationAsync(request.Token, request.Password, Client(context), cancellationToken), nameof(request.Password));
    }

    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> CompleteReset(
        CompletePasswordResetRequest request, HttpContext context, AccountLinks links, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Text(nameof(request.Token), request.Token, TokenMaxLength)
            .Text(nameof(request.NewPassword), request.NewPassword, Limits.PasswordMaxLength);
        return validation.HasErrors
            ? validation.Problem()
            : Map(await links.CompletePasswordResetAsync(request.Token, request.NewPassword, Client(context), cancellationToken), nameof(request.NewPassword));
    }

    static Results<NoContent, ValidationProblem, ProblemHttpResult> Map(LinkResult result, string passwordField) => result.Outcome switch
    {
        LinkOutcome.Done => TypedResults.NoContent(),
        LinkOutcome.Rejected => PasswordProblem(result.Errors!, passwordField),
        LinkOutcome.ClientBlocked => Problems.Forbidden("Too many failed attempts", "This client is blocked for a short while."),
        _ => Problems.BadRequest("Link not valid", "This link is unknown, has expired or was already used. Ask your administrator to send a new one."),
    };

    /// <summary>The password policy's refusals under the request's password field, without echoing the input.</summary>
    static ValidationProblem PasswordProblem(IdentityResult result, string field)
    {
        var validation = new Validation();
        foreach (var error in result.Errors)
        {
            validation.Add(field, error.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure) ? "The account changed meanwhile; try again." : error.Description);
        }

        return validation.Problem();
    }

    static string Client(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}

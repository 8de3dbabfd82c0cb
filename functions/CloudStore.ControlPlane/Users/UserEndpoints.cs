using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Users;

/// <summary>People of the organisation (administrators manage them) and each person's own account.</summary>
public static class UserEndpoints
{
    public static IEndpointRouteBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        var users = app.MapGroup("/api/users").WithTags("Users").RequireAuthorization(Policies.Administrator);
        users.MapGet("/", List).WithName("ListUsers").WithSummary("The organisation's users.");
        users.MapPost("/", Create).WithName("CreateUser").WithSummary("Invite a person by email with a role; they choose their own password through the mailed link.");
        users.MapGet("/{id:guid}", Get).WithName("GetUser");
        users.MapPut("/{id:guid}/role", ChangeRole).WithName("ChangeUserRole").WithSummary("Change a user's role; ends the user's sessions.");
        users.MapPost("/{id:guid}/disable", Disable).WithName("DisableUser").WithSummary("Disable a user: no sign-in, sessions end at once.");
        users.MapPost("/{id:guid}/enable", Enable).WithName("EnableUser").WithSummary("Re-enable a disabled user.");
        users.MapDelete("/{id:guid}", Delete).WithName("DeleteUser").WithSummary("Delete a user; sessions end at once, the audit log keeps their id.");
        users.MapPost("/{id:guid}/two-factor/reset", ResetTwoFactor).WithName("ResetUserTwoFactor").WithSummary("Remove a user's authenticator and recovery codes (lost phone); the user enrols again at next sign-in.");

        var me = app.MapGroup("/api/me").WithTags("My account").RequireAuthorization(Policies.Member);
        me.MapGet("/", Me).WithName("GetMe");
        me.MapPost("/recovery-codes", NewRecoveryCodes).WithName("MeRecoveryCodes").WithSummary("Replace the recovery codes (needs the authenticator's current code); the old ones stop working.");
        me.MapPost("/password", ChangePassword).WithName("MeChangePassword").WithSummary("Change one's own password (needs the current one and the authenticator's current code); ends every session.");
        me.MapPost("/two-factor/reset", ResetOwnTwoFactor).WithName("MeResetTwoFactor").WithSummary("Remove one's own authenticator (needs its current code); ends every session, the next sign-in enrols again.");
        return app;
    }

    static async Task<Ok<List<UserResponse>>> List(HttpContext context, DirectoryDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var users = await db.Users.Where(u => u.OrganizationId == caller.OrganizationId).OrderBy(u => u.Email).ToListAsync(cancellationToken);
        var invitations = await PendingInvitationsAsync(db, users, cancellationToken);
        return TypedResults.Ok(users.Select(u => ToResponse(u, time, invitations.GetValueOrDefault(u.Id))).ToList());
    }

    static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Get(Guid id, HttpContext context, DirectoryDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var user = await FindAsync(db, Caller.From(context.User), id, cancellationToken);
        return user is null ? Problems.NotFound("user")
            : TypedResults.Ok(ToResponse(user, time, (await PendingInvitationsAsync(db, [user], cancellationToken)).GetValueOrDefault(user.Id)));
    }

    static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateUserRequest request, HttpContext context, AccountLinks links, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text(nameof(request.Email), request.Email, Limits.EmailLength);
        if (!Roles.IsUserRole(request.Role))
        {
            validation.Add(nameof(request.Role), "One of administrator, operator, viewer.");
        }

        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var result = await links.InviteAsync(Caller.From(context.User), request.Email, request.Role, cancellationToken);
        return result.Outcome switch
        {
            LinkOutcome.Done => TypedResults.Created($"/api/users/{result.User!.Id}", ToResponse(result.User, time, result.ExpiresAt)),
            LinkOutcome.MailNotSent => AccountLinkEndpoints.MailNotSent("The user is created and shows as invited; send the invitation again once mail works."),
            // Email addresses are unique across organisations (they sign in); say no more than that it is taken.
            LinkOutcome.EmailUnavailable => EmailUnavailable(),
            _ => IdentityProblem(result.Errors!),
        };
    }

    static async Task<Results<Ok<UserResponse>, ValidationProblem, ProblemHttpResult>> ChangeRole(
        Guid id, ChangeRoleRequest request, HttpContext context, DirectoryDbContext db, TimeProvider time, RefreshTokens sessions, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!Roles.IsUserRole(request.Role))
        {
            return new Validation().Add(nameof(request.Role), "One of administrator, operator, viewer.").Problem();
        }

        var caller = Caller.From(context.User);
        var user = await FindAsync(db, caller, id, cancellationToken);
        if (user is null)
        {
            return Problems.NotFound("user");
        }

        if (user.Id == caller.UserId && request.Role != Roles.Administrator)
        {
            return Problems.Conflict("Administrators cannot demote themselves", "Ask another administrator, so the organisation always keeps one.");
        }

        if (user.Role != request.Role)
        {
            var previous = user.Role;
            user.Role = request.Role;
            await sessions.RevokeAllAsync(user.Id, cancellationToken);
            audit.Add(caller.OrganizationId, caller.Actor, AuditActions.RoleChanged, $"user:{user.Id}", $"success:{previous}->{request.Role}");
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(ToResponse(user, time));
    }

    static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Disable(Guid id, HttpContext context, UserLifecycle lifecycle, TimeProvider time, CancellationToken cancellationToken) =>
        MapLifecycle(await lifecycle.SetDisabledAsync(Caller.From(context.User), id, disabled: true, cancellationToken), time, "disable");

    static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Enable(Guid id, HttpContext context, UserLifecycle lifecycle, TimeProvider time, CancellationToken cancellationToken) =>
        MapLifecycle(await lifecycle.SetDisabledAsync(Caller.From(context.User), id, disabled: false, cancellationToken), time, "enable");

    static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid id, HttpContext context, UserLifecycle lifecycle, CancellationToken cancellationToken) =>
        await lifecycle.DeleteAsync(Caller.From(context.User), id, cancellationToken) switch
        {
            LifecycleOutcome.Done => TypedResults.NoContent(),
            LifecycleOutcome.Self => SelfRefused("delete"),
            _ => Problems.NotFound("user"),
        };

    static Results<Ok<UserResponse>, ProblemHttpResult> MapLifecycle((LifecycleOutcome Outcome, CloudStoreUser? User) result, TimeProvider time, string verb) => result.Outcome switch
    {
        LifecycleOutcome.Done => TypedResults.Ok(ToResponse(result.User!, time)),
        LifecycleOutcome.Self => SelfRefused(verb),
        _ => Problems.NotFound("user"),
    };

    static ProblemHttpResult SelfRefused(string verb) =>
        Problems.Conflict($"Administrators cannot {verb} their own account", "Ask another administrator, so the organisation always keeps one.");

    static async Task<Results<NoContent, ProblemHttpResult>> ResetTwoFactor(
        Guid id, HttpContext context, DirectoryDbContext db, UserManager<CloudStoreUser> users, RefreshTokens sessions, AuditLog audit, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var user = await FindAsync(db, caller, id, cancellationToken);
        if (user is null)
        {
            return Problems.NotFound("user");
        }

        await users.SetTwoFactorEnabledAsync(user, false);
        await users.ResetAuthenticatorKeyAsync(user);
        await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
        await sessions.RevokeAllAsync(user.Id, cancellationToken);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.TwoFactorReset, $"user:{user.Id}", AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    static async Task<Results<Ok<UserResponse>, ProblemHttpResult>> Me(HttpContext context, DirectoryDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        if (caller.UserId is not { } userId)
        {
            return Problems.NotFound("directory account (signed in through single sign-on)");
        }

        var user = await FindAsync(db, caller, userId, cancellationToken);
        return user is null ? Problems.NotFound("user") : TypedResults.Ok(ToResponse(user, time));
    }

    static async Task<Results<Ok<RecoveryCodesResponse>, ValidationProblem, ProblemHttpResult>> NewRecoveryCodes(
        SecondFactorRequest request, HttpContext context, DirectoryDbContext db, MyAccount account, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text(nameof(request.Code), request.Code, 16);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var user = await CurrentUserAsync(context, db, cancellationToken);
        return user is null
            ? Problems.Conflict("Two-step verification is not on")
            : MapAccount(await account.NewRecoveryCodesAsync(user, request.Code, cancellationToken), r => TypedResults.Ok(new RecoveryCodesResponse(r.RecoveryCodes!)));
    }

    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePassword(
        ChangePasswordRequest request, HttpContext context, DirectoryDbContext db, MyAccount account, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Text(nameof(request.CurrentPassword), request.CurrentPassword, Limits.PasswordMaxLength)
            .Text(nameof(request.NewPassword), request.NewPassword, Limits.PasswordMaxLength)
            .Text(nameof(request.Code), request.Code, 16);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var user = await CurrentUserAsync(context, db, cancellationToken);
        if (user is null)
        {
            return Problems.Conflict("No directory account", "Accounts signed in through single sign-on change their password at their identity provider.");
        }

        var result = await account.ChangePasswordAsync(user, request.CurrentPassword, request.NewPassword, request.Code, cancellationToken);
        return result.PasswordErrors is { } errors ? IdentityProblem(errors) : MapAccount(result, _ => TypedResults.NoContent());
    }

    static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ResetOwnTwoFactor(
        SecondFactorRequest request, HttpContext context, DirectoryDbContext db, MyAccount account, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text(nameof(request.Code), request.Code, 16);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var user = await CurrentUserAsync(context, db, cancellationToken);
        return user is null
            ? Problems.Conflict("Two-step verification is not on")
            : MapAccount(await account.ResetTwoFactorAsync(user, request.Code, cancellationToken), _ => TypedResults.NoContent());
    }

    static Results<T, ValidationProblem, ProblemHttpResult> MapAccount<T>(AccountResult result, Func<AccountResult, T> done) where T : IResult => result.Outcome switch
    {
        AccountOutcome.Done => done(result),
        AccountOutcome.NoSecondFactor => Problems.Conflict("Two-step verification is not on", "This action needs a code from the account's authenticator."),
        _ => Problems.Forbidden("Not confirmed", "The current password or the authenticator code was not accepted; wait for the next code and try again."),
    };

    static Task<CloudStoreUser?> FindAsync(DirectoryDbContext db, Caller caller, Guid id, CancellationToken cancellationToken) =>
        db.Users.SingleOrDefaultAsync(u => u.Id == id && u.OrganizationId == caller.OrganizationId, cancellationToken);

    static Task<CloudStoreUser?> CurrentUserAsync(HttpContext context, DirectoryDbContext db, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        return caller.UserId is { } id ? FindAsync(db, caller, id, cancellationToken) : Task.FromResult<CloudStoreUser?>(null);
    }

    static ProblemHttpResult EmailUnavailable() =>
        Problems.Conflict("Email address not available", "Choose another email address for the new user.");

    /// <summary>Identity's refusals (a weak password, a malformed address) as a validation problem, without echoing the input.</summary>
    internal static ValidationProblem IdentityProblem(IdentityResult result)
    {
        var validation = new Validation();
        foreach (var error in result.Errors)
        {
            validation.Add(error.Code.StartsWith("Password", StringComparison.Ordinal) ? "Password" : "Email", error.Description);
        }

        return validation.Problem();
    }

    /// <summary>When each invited user's pending (unused) invitation link expires.</summary>
    static async Task<Dictionary<Guid, DateTimeOffset>> PendingInvitationsAsync(DirectoryDbContext db, IReadOnlyCollection<CloudStoreUser> users, CancellationToken cancellationToken)
    {
        var invited = users.Where(u => u.PasswordHash is null).Select(u => u.Id).ToList();
        if (invited.Count == 0)
        {
            return [];
        }

        var links = await db.AccountTokens.Where(t => invited.Contains(t.UserId) && t.Purpose == AccountTokenPurposes.Invitation && t.UsedAt == null)
            .Select(t => new { t.UserId, t.ExpiresAt }).ToListAsync(cancellationToken);
        return links.GroupBy(l => l.UserId).ToDictionary(g => g.Key, g => g.Max(l => l.ExpiresAt));
    }

    /// <param name="invitationExpiresAt">The pending invitation link's expiry, for an invited user.</param>
    internal static UserResponse ToResponse(CloudStoreUser u, TimeProvider time, DateTimeOffset? invitationExpiresAt = null) =>
        new(u.Id, u.Email!, u.Role, u.TwoFactorEnabled, u.LockoutEnd > time.GetUtcNow(), u.CreatedAt, u.DisabledAt is not null,
            u.PasswordHash is null, u.PasswordHash is null ? invitationExpiresAt : null);
}

using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// Invitations and administrator-started password resets, end to end through a real SMTP server (maildev): the
/// tests read the mail a person would read and follow its link. The administrator never knows a password, a link
/// works once and not after it expires, and a reset ends the person's sessions at once.
/// </summary>
public sealed class InvitationTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    [Fact]
    public async Task Invitation_MailArrives_LinkWorksOnce_InviteeChoosesThePassword_FirstSignInEnrols()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Invite");
        using var admin = tenant.Client(tenant.Administrator);
        using var inbox = await MailInbox.ForTestsAsync();
        using var anonymous = factory.NewClient();

        var invited = await tenant.InviteAsync(Roles.Operator);
        var listed = (await admin.GetFromJsonAsync<List<UserResponse>>("/api/users"))!.Single(u => u.Id == invited.Id);
        var mail = await inbox.WaitForAsync(invited.Email);
        var password = TestTenant.NewPassword();
        using var accepted = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(mail.LinkToken, password));
        using var again = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(mail.LinkToken, TestTenant.NewPassword()));
        using var signIn = await anonymous.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(invited.Email, password));
        var first = await signIn.Content.ReadFromJsonAsync<SignInResponse>();
        var after = (await admin.GetFromJsonAsync<List<UserResponse>>("/api/users"))!.Single(u => u.Id == invited.Id);
        var audit = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?actor=user:{invited.Id}");

        Assert.True(invited.Invited);
        Assert.Equal(invited.InvitationExpiresAt, listed.InvitationExpiresAt);
        Assert.True(listed.Invited);
        Assert.NotNull(listed.InvitationExpiresAt);
        Assert.InRange(listed.InvitationExpiresAt!.Value - factory.Clock.GetUtcNow(), TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5), TimeSpan.FromDays(7));
        Assert.Equal(CloudStore.LocalStack.MailDev.FromAddress, mail.From);
        Assert.Equal([invited.Email], mail.To);
        Assert.StartsWith(FunctionsFactory.PlayerOrigin + "/invitation?token=", mail.Link.ToString(), StringComparison.Ordinal);
        Assert.Equal(43, mail.LinkToken.Length); // 256 bits, base64url
        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        await AssertLinkRefusedAsync(again);
        Assert.Equal(SignInResponse.AuthenticatorEnrolmentRequired, first!.Status);
        Assert.Null(first.Tokens);
        Assert.False(after.Invited);
        Assert.Null(after.InvitationExpiresAt);
        Assert.Contains(audit!, e => e.Action == AuditActions.InvitationAccepted && e.Outcome == AuditLog.Success && e.SourceAddress.Length > 0);

        // Only the hash of the link is stored, now marked used; no password (the invitee's, the administrator's) is in any mail.
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(mail.LinkToken));
        Assert.NotNull(await factory.WithDirectoryAsync(db => db.AccountTokens.Where(t => t.TokenHash == hash).Select(t => t.UsedAt).SingleAsync()));
        Assert.DoesNotContain(await inbox.ForAsync(invited.Email), m => m.Text.Contains(password, StringComparison.Ordinal) || m.Text.Contains(tenant.Administrator.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvitedUser_BeforeAccepting_CannotSignIn_AndNoAttemptLocksThemOut()
    {
        var tenant = await TestTenant.CreateAsync(factory, "NotYet");
        using var admin = tenant.Client(tenant.Administrator);
        using var anonymous = factory.NewClient();
        var invited = await tenant.InviteAsync(Roles.Viewer);

        var answers = new List<HttpStatusCode>();
        foreach (var guess in new[] { "", "correct horse battery staple", TestTenant.NewPassword() })
        {
            using var response = await anonymous.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(invited.Email, guess.Length == 0 ? "x" : guess));
            answers.Add(response.StatusCode);
        }

        var audit = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.SignIn}");

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.Contains(audit!, e => e.Target == $"user:{invited.Id}" && e.Outcome == AuditLog.Failure("invitation-not-accepted"));
        Assert.Equal(0, await factory.WithDirectoryAsync(db => db.Users.Where(u => u.Id == invited.Id).Select(u => u.AccessFailedCount).SingleAsync()));
    }

    [Fact]
    public async Task Invitation_ManyParallelAccepts_ExactlyOneSucceeds_NoServerError()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Race");
        using var inbox = await MailInbox.ForTestsAsync();
        var invited = await tenant.InviteAsync(Roles.Operator);
        var token = (await inbox.WaitForAsync(invited.Email)).LinkToken;
        var passwords = Enumerable.Range(0, 8).Select(_ => TestTenant.NewPassword()).ToList();

        var answers = await Task.WhenAll(passwords.Select(async password =>
        {
            using var client = factory.NewClient();
            using var response = await client.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(token, password));
            return (password, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.All(answers, a => Assert.True((int)a.StatusCode < 500, $"{(int)a.StatusCode} {a.Body}"));
        var winner = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.NoContent);
        Assert.All(answers.Where(a => a != winner), a => Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode));
        await tenant.SignInAsync(new TestUser(invited.Id, invited.Email, winner.password, Roles.Operator));
    }

    [Fact]
    public async Task Invitation_WeakPassword_RefusedAndTheLinkStillWorks()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Weak");
        using var inbox = await MailInbox.ForTestsAsync();
        using var anonymous = factory.NewClient();
        var invited = await tenant.InviteAsync(Roles.Viewer);
        var token = (await inbox.WaitForAsync(invited.Email)).LinkToken;

        using var weak = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(token, "password123"));
        using var strong = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(token, TestTenant.NewPassword()));

        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        var problem = await weak.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _), problem.ToString()); // the field, as the request names it
        Assert.Equal(HttpStatusCode.NoContent, strong.StatusCode);
    }

    [Fact]
    public async Task Resend_OldLinkDies_NewLinkWorks_DeletingAnInvitedUserKillsTheirLink()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Resend");
        using var admin = tenant.Client(tenant.Administrator);
        using var inbox = await MailInbox.ForTestsAsync();
        using var anonymous = factory.NewClient();
        var invited = await tenant.InviteAsync(Roles.Operator);
        var old = (await inbox.WaitForAsync(invited.Email)).LinkToken;

        using var resent = await admin.PostAsync($"/api/users/{invited.Id}/invitation", null);
        var fresh = (await inbox.WaitForAsync(invited.Email, count: 2)).LinkToken;
        using var withOld = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(old, TestTenant.NewPassword()));
        var other = await tenant.InviteAsync(Roles.Viewer);
        var otherToken = (await inbox.WaitForAsync(other.Email)).LinkToken;
        using var deleted = await admin.DeleteAsync($"/api/users/{other.Id}");
        using var withDeleted = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(otherToken, TestTenant.NewPassword()));
        using var withFresh = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(fresh, TestTenant.NewPassword()));
        using var resendAccepted = await admin.PostAsync($"/api/users/{invited.Id}/invitation", null);

        Assert.Equal(HttpStatusCode.NoContent, resent.StatusCode);
        Assert.NotEqual(old, fresh);
        await AssertLinkRefusedAsync(withOld);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertLinkRefusedAsync(withDeleted);
        Assert.Equal(HttpStatusCode.NoContent, withFresh.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, resendAccepted.StatusCode);
    }

    [Fact]
    public async Task Invitation_Expired_RefusedAndNothingChanged_ANewOneWorks()
    {
        await using var own = new FunctionsFactory();
        var tenant = await TestTenant.CreateAsync(own, "Expiry");
        using var inbox = await MailInbox.ForTestsAsync();
        using var anonymous = own.NewClient();
        var invited = await tenant.InviteAsync(Roles.Operator);
        var token = (await inbox.WaitForAsync(invited.Email)).LinkToken;
        var before = await own.WithDirectoryAsync(db => db.Users.Where(u => u.Id == invited.Id).Select(u => new { u.PasswordHash, u.SecurityStamp }).SingleAsync());

        own.Clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        using var expired = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(token, TestTenant.NewPassword()));
        var after = await own.WithDirectoryAsync(db => db.Users.Where(u => u.Id == invited.Id).Select(u => new { u.PasswordHash, u.SecurityStamp }).SingleAsync());
        var refusals = await own.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.Action == AuditActions.InvitationAccepted && e.Target == $"user:{invited.Id}").Select(e => e.Outcome).ToListAsync());

        await AssertLinkRefusedAsync(expired);
        Assert.Null(after.PasswordHash);
        Assert.Equal(before, after);
        Assert.Equal([AuditLog.Failure("expired-link")], refusals);
    }

    [Fact]
    public async Task PasswordReset_EndsSessionsAtOnce_LinkSetsANewPasswordOnce_AndEndsSessionsAgain()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Reset");
        using var admin = tenant.Client(tenant.Administrator);
        using var inbox = await MailInbox.ForTestsAsync();
        using var anonymous = factory.NewClient();
        var user = await tenant.AddUserAsync(Roles.Operator);
        var sessionBefore = user.Tokens!.RefreshToken!;

        using var started = await admin.PostAsync($"/api/users/{user.Id}/password-reset", null);
        using var oldSession = await anonymous.PostAsJsonAsync("/api/auth/token", new RefreshRequest(sessionBefore, null));
        var mail = await inbox.WaitForAsync(user.Email, count: 2);
        var sessionBetween = (await tenant.SignInAsync(user)).RefreshToken!; // the old password still signs in until the reset is done
        var newPassword = TestTenant.NewPassword();
        using var reset = await anonymous.PostAsJsonAsync("/api/password-reset", new CompletePasswordResetRequest(mail.LinkToken, newPassword));
        using var twice = await anonymous.PostAsJsonAsync("/api/password-reset", new CompletePasswordResetRequest(mail.LinkToken, TestTenant.NewPassword()));
        using var betweenSession = await anonymous.PostAsJsonAsync("/api/auth/token", new RefreshRequest(sessionBetween, null));
        using var oldPassword = await anonymous.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        var signIn = await (await anonymous.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, newPassword))).Content.ReadFromJsonAsync<SignInResponse>();
        var audit = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.PasswordResetStarted}");

        Assert.Equal(HttpStatusCode.NoContent, started.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, oldSession.StatusCode);
        Assert.Equal("Set a new CloudStore password", mail.Subject);
        Assert.StartsWith(FunctionsFactory.PlayerOrigin + "/reset-password?token=", mail.Link.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(user.Password, mail.Text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        await AssertLinkRefusedAsync(twice);
        Assert.Equal(HttpStatusCode.Unauthorized, betweenSession.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, oldPassword.StatusCode);
        Assert.Equal(SignInResponse.TwoFactorRequired, signIn!.Status); // the authenticator stays
        var entry = Assert.Single(audit!, e => e.Target == $"user:{user.Id}");
        Assert.Equal($"user:{tenant.Administrator.Id}", entry.Actor);
    }

    [Fact]
    public async Task PasswordReset_LinkExpiresAfterAnHour_AndAnInvitationLinkIsNoResetLink()
    {
        await using var own = new FunctionsFactory();
        var tenant = await TestTenant.CreateAsync(own, "ResetExpiry");
        using var admin = tenant.Client(tenant.Administrator);
        using var inbox = await MailInbox.ForTestsAsync();
        using var anonymous = own.NewClient();
        var user = await tenant.AddUserAsync(Roles.Viewer, signIn: false);
        var invited = await tenant.InviteAsync(Roles.Viewer);
        var invitationToken = (await inbox.WaitForAsync(invited.Email)).LinkToken;
        (await admin.PostAsync($"/api/users/{user.Id}/password-reset", null)).EnsureSuccessStatusCode();
        using var resetInvited = await admin.PostAsync($"/api/users/{invited.Id}/password-reset", null);
        var token = (await inbox.WaitForAsync(user.Email, count: 2)).LinkToken;

        using var wrongPurpose = await anonymous.PostAsJsonAsync("/api/password-reset", new CompletePasswordResetRequest(invitationToken, TestTenant.NewPassword()));
        own.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        using var expired = await anonymous.PostAsJsonAsync("/api/password-reset", new CompletePasswordResetRequest(token, TestTenant.NewPassword()));

        Assert.Equal(HttpStatusCode.Conflict, resetInvited.StatusCode);
        await AssertLinkRefusedAsync(wrongPurpose);
        await AssertLinkRefusedAsync(expired);
        await tenant.SignInAsync(user); // the old password still holds
    }

    [Fact]
    public async Task Invitation_RelayDown_503SaysSo_UserStaysInvited_Audited()
    {
        await using var own = new FunctionsFactory().With("Mail:SmtpPort", CloudStore.LocalStack.ChildProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        var tenant = await TestTenant.CreateAsync(own, "NoRelay");
        using var admin = tenant.Client(tenant.Administrator);
        var email = $"nomail-{Guid.NewGuid():N}@tenant.test";

        using var response = await admin.PostAsJsonAsync("/api/users", new CreateUserRequest(email, Roles.Operator));
        var users = await admin.GetFromJsonAsync<List<UserResponse>>("/api/users");
        var audit = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.MailNotSent}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(users!, u => u.Email == email && u.Invited);
        Assert.Equal(AuditLog.Failure("invitation"), Assert.Single(audit!).Outcome);
    }

    static async Task AssertLinkRefusedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Link not valid", text, StringComparison.Ordinal);
    }
}

using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using CloudStore.Device;
using CloudStore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// Audit completeness: every operation that changes something, and every grant of access to recordings, writes an
/// entry saying who acted, from where, what, on what, and with which outcome. <see cref="Expected"/> names every
/// mapped operation that is not a plain read, with the action it writes or why it writes none; the scenario walks an
/// organisation's life through the API, from a client address of each actor's own, and checks each step's entry.
/// </summary>
public sealed class AuditTrailTests : IAsyncLifetime, IDisposable
{
    const string NotAuditedPrefix = "not audited: ";

    static readonly Dictionary<string, string> Expected = new(StringComparer.Ordinal)
    {
        ["POST /api/auth/sign-in"] = AuditActions.SignIn,
        ["POST /api/auth/two-factor"] = AuditActions.SignIn,
        ["POST /api/auth/external"] = AuditActions.SignIn,
        ["POST /api/auth/authenticator/setup"] = NotAudited("hands out a secret inside a sign-in; nothing is enabled until it is confirmed"),
        ["POST /api/auth/authenticator/confirm"] = AuditActions.TwoFactorEnrolled,
        ["POST /api/auth/token"] = AuditActions.TokenRefresh,
        ["POST /api/auth/revoke"] = AuditActions.SignOut,
        ["POST /api/devices/enrol"] = AuditActions.DeviceEnrolled,
        ["POST /api/devices/token"] = AuditActions.DeviceAuthenticated,
        ["PUT /api/organization/policy"] = AuditActions.OrganizationPolicyChanged,
        ["PUT /api/organization/region"] = AuditActions.OrganizationRegionChosen,
        ["PUT /api/organization/retention"] = AuditActions.RetentionChanged,
        ["POST /api/users/"] = AuditActions.UserCreated,
        ["POST /api/users/{id:guid}/invitation"] = AuditActions.InvitationResent,
        ["POST /api/invitations/accept"] = AuditActions.InvitationAccepted,
        ["POST /api/users/{id:guid}/password-reset"] = AuditActions.PasswordResetStarted,
        ["POST /api/password-reset"] = AuditActions.PasswordReset,
        ["PUT /api/users/{id:guid}/role"] = AuditActions.RoleChanged,
        ["POST /api/users/{id:guid}/disable"] = AuditActions.UserDisabled,
        ["POST /api/users/{id:guid}/enable"] = AuditActions.UserEnabled,
        ["DELETE /api/users/{id:guid}"] = AuditActions.UserDeleted,
        ["POST /api/users/{id:guid}/two-factor/reset"] = AuditActions.TwoFactorReset,
        ["POST /api/me/recovery-codes"] = AuditActions.RecoveryCodesRegenerated,
        ["POST /api/me/password"] = AuditActions.PasswordChanged,
        ["POST /api/me/two-factor/reset"] = AuditActions.TwoFactorReset,
        ["POST /api/devices/"] = AuditActions.DeviceCreated,
        ["POST /api/devices/{id:guid}/enrolment-code"] = AuditActions.DeviceEnrolmentCodeIssued,
        ["POST /api/devices/{id:guid}/revoke"] = AuditActions.DeviceRevoked,
        ["POST /api/devices/{id:guid}/cameras"] = AuditActions.CameraCreated,
        ["POST /api/cameras/{id:guid}/enable"] = AuditActions.CameraEnabledChanged,
        ["POST /api/cameras/{id:guid}/disable"] = AuditActions.CameraEnabledChanged,
        ["PUT /api/cameras/{id:guid}/retention"] = AuditActions.RetentionChanged,
        ["POST /api/cameras/{id:guid}/holds"] = AuditActions.LegalHoldPlaced,
        ["POST /api/cameras/{id:guid}/holds/{holdId:guid}/release"] = AuditActions.LegalHoldReleased,
        ["DELETE /api/cameras/{id:guid}"] = AuditActions.CameraDeleted,
        ["DELETE /api/devices/{id:guid}"] = AuditActions.DeviceDeleted,
        ["DELETE /api/organization"] = AuditActions.OrganizationDeleted,
        ["POST /api/credentials"] = AuditActions.CredentialsIssued,
        ["POST /api/segments"] = NotAudited("every recorded segment, thousands a day per camera; the grant to upload is audited, and the sweep audits deletions per camera"),
        ["GET /api/cameras/{id:guid}/playlist.m3u8"] = AuditActions.PlaylistIssued,
        ["GET /api/cameras/{id:guid}/live.m3u8"] = AuditActions.LiveWatched,
        ["POST /api/cameras/{id:guid}/tamper-reports"] = AuditActions.TamperDetected,
        ["POST /api/cameras/{id:guid}/exports"] = AuditActions.Exported,
    };

    readonly FunctionsFactory _factory;
    readonly HashSet<string> _covered = [];
    long _lastEntry;

    /// <summary>The app serves Frankfurt with an index of its own; no step here reaches storage (no segment is recorded).</summary>
    public AuditTrailTests()
    {
        _factory = new FunctionsFactory();
        _factory.With($"Regions:{Regions.EuFrankfurt}:Storage:ConnectionString", "UseDevelopmentStorage=true")
            .With($"Regions:{Regions.EuFrankfurt}:Index:ConnectionString", $"Data Source={Path.Combine(_factory.Folder, "index-frankfurt.db")}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _factory.DisposeAsync().AsTask();

    public void Dispose() => _factory.Dispose();

    static string NotAudited(string reason) => NotAuditedPrefix + reason;

    [Fact]
    public void EveryOperationThatChangesSomething_IsInTheTable()
    {
        var mapped = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["ANY"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .Where(e => !e.StartsWith("GET ", StringComparison.Ordinal) || Expected.ContainsKey(e))
            .ToHashSet();

        Assert.True(mapped.SetEquals(Expected.Keys), "Operations missing from the table: " + string.Join(", ", mapped.Except(Expected.Keys))
            + "; table entries for no operation: " + string.Join(", ", Expected.Keys.Except(mapped)));
    }

    [Fact]
    public async Task OrganisationsLife_EveryStepWritesWhoFromWhereWhatTargetAndOutcome()
    {
        var tenant = await TestTenant.CreateAsync(_factory, "Trail");
        await SkipToLatestEntryAsync();
        var adminActor = $"user:{tenant.Administrator.Id}";
        using var admin = Client("2001:db8:a::1", tenant.Administrator.Tokens!.AccessToken);

        // People: an operator joins, enrols an authenticator at first sign-in, and is managed by the administrator.
        var email = $"trail-{Guid.NewGuid():N}@tenant.test";
        var password = TestTenant.NewPassword();
        var created = await StepAsync<UserResponse>("POST /api/users/", admin, adminActor, null, "success:role=operator",
            () => admin.PostAsJsonAsync("/api/users", new CreateUserRequest(email, Roles.Operator)));
        var person = new TestUser(created.Id, email, password, Roles.Operator);
        var personActor = $"user:{person.Id}";
        await StepAsync("POST /api/users/{id:guid}/invitation", admin, adminActor, personActor, "success", () => admin.PostAsync($"/api/users/{person.Id}/invitation", null));
        using var inbox = await MailInbox.ForTestsAsync();
        var invitation = await inbox.WaitForAsync(email, count: 2);
        using var anonymous = Client("2001:db8:b::1");
        await StepAsync("POST /api/invitations/accept", anonymous, personActor, personActor, "success",
            () => anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest(invitation.LinkToken, password)));
        await StepAsync("POST /api/auth/sign-in", anonymous, personActor, personActor, "failure:",
            () => anonymous.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(email, "not the password at all")), expectStatus: HttpStatusCode.Unauthorized);
        // Single sign-on with an ID token of no provider this organisation trusts: refused, audited with no one to name.
        await StepAsync("POST /api/auth/external", anonymous, "anonymous", "external", "failure:unknown-issuer",
            () => anonymous.PostAsJsonAsync("/api/auth/external", new ExternalSignInRequest("eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2V2aWwudGVzdCJ9.")),
            expectStatus: HttpStatusCode.Unauthorized);
        var challenge = await SignInRequest(anonymous, person);
        var setup = await (await anonymous.PostAsJsonAsync("/api/auth/authenticator/setup", new ChallengeRequest(challenge))).Content.ReadFromJsonAsync<AuthenticatorSetupResponse>();
        person.AuthenticatorKey = setup!.SharedKey;
        var signedIn = await StepAsync<SignInResponse>("POST /api/auth/authenticator/confirm", anonymous, personActor, personActor, "success",
            async () => await anonymous.PostAsJsonAsync("/api/auth/authenticator/confirm", new AuthenticatorConfirmRequest(challenge, await person.NextCodeAsync(_factory.Clock))),
            alsoWrites: AuditActions.SignIn);
        person.Tokens = signedIn.Tokens;
        challenge = await SignInRequest(anonymous, person);
        person.Tokens = (await StepAsync<SignInResponse>("POST /api/auth/two-factor", anonymous, personActor, personActor, "success",
            async () => await anonymous.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(challenge, await person.NextCodeAsync(_factory.Clock), null)))).Tokens;
        await StepAsync("POST /api/auth/revoke", anonymous, personActor, personActor, "success",
            () => anonymous.PostAsJsonAsync("/api/auth/revoke", new RevokeRequest(person.Tokens!.RefreshToken!)));

        // Each person's authenticator gives two codes at once (the current step's and, as accepted drift, the next one's):
        // one to enrol at first sign-in, one for a step here. More people rather than waits for new codes.
        var reused = await tenant.AddUserAsync(Roles.Operator);
        var staleRefresh = reused.Tokens!.RefreshToken!;
        (await anonymous.PostAsJsonAsync("/api/auth/token", new RefreshRequest(staleRefresh, null))).EnsureSuccessStatusCode();
        await StepAsync("POST /api/auth/token", anonymous, $"user:{reused.Id}", $"user:{reused.Id}", "failure:refresh-token-reused",
            () => anonymous.PostAsJsonAsync("/api/auth/token", new RefreshRequest(staleRefresh, null)), expectStatus: HttpStatusCode.Unauthorized);

        var recovering = await tenant.AddUserAsync(Roles.Operator);
        using var recoveringClient = Client("2001:db8:c::1", recovering.Tokens!.AccessToken);
        await StepAsync("POST /api/me/recovery-codes", recoveringClient, $"user:{recovering.Id}", $"user:{recovering.Id}", "success",
            async () => await recoveringClient.PostAsJsonAsync("/api/me/recovery-codes", new SecondFactorRequest(await recovering.NextCodeAsync(_factory.Clock))));

        var changing = await tenant.AddUserAsync(Roles.Viewer);
        using var changingClient = Client("2001:db8:c::2", changing.Tokens!.AccessToken);
        await StepAsync("POST /api/me/password", changingClient, $"user:{changing.Id}", $"user:{changing.Id}", "success",
            async () => await changingClient.PostAsJsonAsync("/api/me/password", new ChangePasswordRequest(changing.Password, TestTenant.NewPassword(), await changing.NextCodeAsync(_factory.Clock))));

        var resetting = await tenant.AddUserAsync(Roles.Administrator);
        using var resettingClient = Client("2001:db8:c::3", resetting.Tokens!.AccessToken);
        await StepAsync("POST /api/me/two-factor/reset", resettingClient, $"user:{resetting.Id}", $"user:{resetting.Id}", "success",
            async () => await resettingClient.PostAsJsonAsync("/api/me/two-factor/reset", new SecondFactorRequest(await resetting.NextCodeAsync(_factory.Clock))));

        var target = $"user:{person.Id}";
        await StepAsync("PUT /api/users/{id:guid}/role", admin, adminActor, target, "success:operator->viewer",
            () => admin.PutAsJsonAsync($"/api/users/{person.Id}/role", new ChangeRoleRequest(Roles.Viewer)));
        await StepAsync("POST /api/users/{id:guid}/disable", admin, adminActor, target, "success", () => admin.PostAsync($"/api/users/{person.Id}/disable", null));
        await StepAsync("POST /api/users/{id:guid}/enable", admin, adminActor, target, "success", () => admin.PostAsync($"/api/users/{person.Id}/enable", null));
        await StepAsync("POST /api/users/{id:guid}/password-reset", admin, adminActor, target, "success:sessions-ended", () => admin.PostAsync($"/api/users/{person.Id}/password-reset", null));
        var reset = await inbox.WaitForAsync(email, count: 3);
        await StepAsync("POST /api/password-reset", anonymous, personActor, personActor, "success",
            () => anonymous.PostAsJsonAsync("/api/password-reset", new CompletePasswordResetRequest(reset.LinkToken, TestTenant.NewPassword())));
        await StepAsync("POST /api/users/{id:guid}/two-factor/reset", admin, adminActor, target, "success", () => admin.PostAsync($"/api/users/{person.Id}/two-factor/reset", null));
        await StepAsync("DELETE /api/users/{id:guid}", admin, adminActor, target, "success", () => admin.DeleteAsync($"/api/users/{person.Id}"));

        // The organisation's settings.
        var organization = $"organization:{tenant.OrganizationId}";
        await StepAsync("PUT /api/organization/policy", admin, adminActor, organization, "failure:two-step-verification-cannot-be-switched-off",
            () => admin.PutAsJsonAsync("/api/organization/policy", new OrganizationPolicyRequest(false)), expectStatus: HttpStatusCode.Conflict);
        await StepAsync("PUT /api/organization/region", admin, adminActor, organization, "success:" + Regions.EuFrankfurt,
            () => admin.PutAsJsonAsync("/api/organization/region", new OrganizationRegionRequest(Regions.EuFrankfurt)));
        await StepAsync("PUT /api/organization/retention", admin, adminActor, organization, "success:30->14",
            () => admin.PutAsJsonAsync("/api/organization/retention", new OrganizationRetentionRequest(14)));

        // A device: created, a second enrolment code, enrolled by the camera, then its camera is managed.
        var device = await StepAsync<EnrolmentCodeResponse>("POST /api/devices/", admin, adminActor, null, "success",
            () => admin.PostAsJsonAsync("/api/devices", new CreateDeviceRequest("TRAIL0000001", "AXIS M3086-V")));
        var deviceTarget = $"device:{device.DeviceId}";
        device = await StepAsync<EnrolmentCodeResponse>("POST /api/devices/{id:guid}/enrolment-code", admin, adminActor, deviceTarget, "success",
            () => admin.PostAsync($"/api/devices/{device.DeviceId}/enrolment-code", null));
        using var key = DeviceKey.Create();
        using var cameraHttp = Client("2001:db8:d::1");
        cameraHttp.BaseAddress = new Uri(cameraHttp.BaseAddress!, "/api/");
        var camera = new DeviceClient(cameraHttp, key, _factory.Clock, new DeviceClientOptions());
        var deviceActor = deviceTarget;
        var enrolled = await CallAsync("POST /api/devices/enrol", cameraHttp, deviceActor, deviceTarget, "success",
            () => camera.EnrolAsync(device.EnrolmentCode, "TRAIL0000001", CancellationToken.None));
        await StepAsync("POST /api/devices/token", cameraHttp, "anonymous", "device:unknown", "failure:",
            () => cameraHttp.PostAsJsonAsync("devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, "not.a.signed.assertion")), expectStatus: HttpStatusCode.Unauthorized);
        using var deviceClient = Client("2001:db8:d::2", await camera.AccessTokenAsync(enrolled.DeviceId, enrolled.AssertionAudience, CancellationToken.None));

        var createdCamera = await StepAsync<CameraResponse>("POST /api/devices/{id:guid}/cameras", admin, adminActor, null, "success",
            () => admin.PostAsJsonAsync($"/api/devices/{device.DeviceId}/cameras", new CreateCameraRequest("Loading bay", 1)));
        var cameraTarget = $"camera:{createdCamera.Id}";
        await StepAsync("POST /api/credentials", deviceClient, deviceActor, cameraTarget, "failure:",
            () => deviceClient.PostAsJsonAsync("/api/credentials", new CredentialsRequest(createdCamera.Id)), expectStatus: HttpStatusCode.Forbidden);
        await StepAsync("POST /api/cameras/{id:guid}/enable", admin, adminActor, cameraTarget, "success:enabled", () => admin.PostAsync($"/api/cameras/{createdCamera.Id}/enable", null));
        await StepAsync("POST /api/cameras/{id:guid}/disable", admin, adminActor, cameraTarget, "success:disabled", () => admin.PostAsync($"/api/cameras/{createdCamera.Id}/disable", null));
        await StepAsync("PUT /api/cameras/{id:guid}/retention", admin, adminActor, cameraTarget, "success:",
            () => admin.PutAsJsonAsync($"/api/cameras/{createdCamera.Id}/retention", new CameraRetentionRequest(90)));
        var from = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var hold = await StepAsync<LegalHoldResponse>("POST /api/cameras/{id:guid}/holds", admin, adminActor, cameraTarget, "success:hold=",
            () => admin.PostAsJsonAsync($"/api/cameras/{createdCamera.Id}/holds", new CreateLegalHoldRequest(from, from.AddHours(2), "CASE-TRAIL-1")));
        await StepAsync("POST /api/cameras/{id:guid}/holds/{holdId:guid}/release", admin, adminActor, cameraTarget, $"success:hold={hold.Id}",
            () => admin.PostAsync($"/api/cameras/{createdCamera.Id}/holds/{hold.Id}/release", null));
        await StepAsync("GET /api/cameras/{id:guid}/playlist.m3u8", admin, adminActor, cameraTarget, "success:",
            () => admin.GetAsync($"/api/cameras/{createdCamera.Id}/playlist.m3u8?from={from:O}&to={from.AddHours(1):O}".Replace("+", "%2B", StringComparison.Ordinal)));
        await StepAsync("GET /api/cameras/{id:guid}/live.m3u8", admin, adminActor, cameraTarget, "success",
            () => admin.GetAsync($"/api/cameras/{createdCamera.Id}/live.m3u8"));
        await StepAsync("POST /api/cameras/{id:guid}/exports", admin, adminActor, cameraTarget, "success:2026-11-01T00:00:00Z/2026-11-01T00:10:00Z",
            () => admin.PostAsJsonAsync($"/api/cameras/{createdCamera.Id}/exports", new ExportRequest(from, from.AddMinutes(10))));
        await IndexSegmentAsync(tenant.OrganizationId, createdCamera.Id, from);
        await StepAsync("POST /api/cameras/{id:guid}/tamper-reports", admin, adminActor, cameraTarget, "failure:segment-altered;seq=0;2026-11-01T00:00:00.000Z/2026-11-01T00:00:04.000Z",
            () => admin.PostAsJsonAsync($"/api/cameras/{createdCamera.Id}/tamper-reports", new TamperReportRequest(from, TamperReportRequest.Segment)));
        await StepAsync("DELETE /api/cameras/{id:guid}", admin, adminActor, cameraTarget, "success:recordings=keep",
            () => admin.DeleteAsync($"/api/cameras/{createdCamera.Id}?recordings=keep"));
        await StepAsync("POST /api/devices/{id:guid}/revoke", admin, adminActor, deviceTarget, "success", () => admin.PostAsync($"/api/devices/{device.DeviceId}/revoke", null));
        await StepAsync("DELETE /api/devices/{id:guid}", admin, adminActor, deviceTarget, "success",
            () => admin.DeleteAsync($"/api/devices/{device.DeviceId}?recordings=delete"));

        // Last, the organisation itself: the name typed and a fresh code.
        var name = (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.Name;
        await StepAsync("DELETE /api/organization", admin, adminActor, organization, "success",
            async () => await admin.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/organization")
            {
                Content = JsonContent.Create(new DeleteOrganizationRequest(name, await tenant.Administrator.NextCodeAsync(_factory.Clock))),
            }));

        var audited = Expected.Where(e => !e.Value.StartsWith(NotAuditedPrefix, StringComparison.Ordinal)).Select(e => e.Key);
        Assert.Empty(audited.Except(_covered));
    }

    HttpClient Client(string address, string? accessToken = null)
    {
        var client = _factory.NewClient(address);
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", accessToken);
        }

        return client;
    }

    /// <summary>Step one of a sign-in with the right password; returns the challenge for step two.</summary>
    static async Task<string> SignInRequest(HttpClient client, TestUser user)
    {
        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        return (await response.Content.ReadFromJsonAsync<SignInResponse>())!.Challenge!;
    }

    async Task<T> StepAsync<T>(string operation, HttpClient client, string actor, string? target, string outcome, Func<Task<HttpResponseMessage>> send,
        HttpStatusCode? expectStatus = null, string? alsoWrites = null)
    {
        using var response = await send();
        await CheckAsync(operation, client, actor, target, outcome, response, expectStatus, alsoWrites);
        return (await response.Content.ReadFromJsonAsync<T>())!;
    }

    async Task StepAsync(string operation, HttpClient client, string actor, string? target, string outcome, Func<Task<HttpResponseMessage>> send, HttpStatusCode? expectStatus = null)
    {
        using var response = await send();
        await CheckAsync(operation, client, actor, target, outcome, response, expectStatus, alsoWrites: null);
    }

    /// <summary>A step through a client library rather than a raw request: its result, once its entry is checked.</summary>
    async Task<T> CallAsync<T>(string operation, HttpClient client, string actor, string? target, string outcome, Func<Task<T>> act)
    {
        var result = await act();
        await CheckAsync(operation, client, actor, target, outcome, response: null, expectStatus: null, alsoWrites: null);
        return result;
    }

    async Task CheckAsync(string operation, HttpClient client, string actor, string? target, string outcome, HttpResponseMessage? response, HttpStatusCode? expectStatus, string? alsoWrites)
    {
        if (response is not null)
        {
            var body = response.StatusCode == HttpStatusCode.NoContent ? "" : await response.Content.ReadAsStringAsync();
            if (expectStatus is { } status)
            {
                Assert.True(response.StatusCode == status, $"{operation}: {(int)response.StatusCode} {body}");
            }
            else
            {
                Assert.True(response.IsSuccessStatusCode, $"{operation}: {(int)response.StatusCode} {body}");
            }

            await response.Content.LoadIntoBufferAsync();
        }

        var entries = await _factory.WithDirectoryAsync(db => db.AuditEntries.AsNoTracking().Where(e => e.Id > _lastEntry).OrderBy(e => e.Id).ToListAsync());
        _lastEntry = entries.Count > 0 ? entries[^1].Id : _lastEntry;
        var action = Expected[operation];
        var entry = entries.FirstOrDefault(e => e.Action == action);
        Assert.True(entry is not null, $"{operation} ({(int?)response?.StatusCode} {response?.RequestMessage?.RequestUri}) wrote no {action} entry; it wrote: " + string.Join(", ", entries.Select(e => $"{e.Action} {e.Outcome}")));
        Assert.Equal(actor, entry.Actor);
        Assert.Equal(client.DefaultRequestHeaders.GetValues(FunctionsFactory.ClientHeader).Single(), entry.SourceAddress);
        if (target is not null)
        {
            Assert.Equal(target, entry.Target);
        }
        else
        {
            Assert.Matches(@"^[a-z]+:[0-9a-f-]{36}\z", entry.Target);
        }

        Assert.StartsWith(outcome, entry.Outcome, StringComparison.Ordinal);
        if (alsoWrites is not null)
        {
            Assert.Contains(entries, e => e.Action == alsoWrites && e.Actor == actor && e.Outcome == AuditLog.Success);
        }

        _covered.Add(operation);
    }

    /// <summary>One 4-second segment in Frankfurt's index, as the camera's indexing leaves it (no storage is involved here).</summary>
    async Task IndexSegmentAsync(Guid organizationId, Guid cameraId, DateTimeOffset start)
    {
        await using var index = _factory.Services.GetRequiredService<RegionCatalog>().OpenIndex(Regions.EuFrankfurt);
        var keyId = Guid.NewGuid();
        index.InitSegments.Add(new InitSegmentRow
        {
            CameraId = cameraId, OrganizationId = organizationId, ObjectName = "init/trail.mp4", Size = 900, Sha256 = new byte[32], KeyId = keyId, Iv = new byte[16], IndexedAt = start,
        });
        index.Segments.Add(new SegmentRow
        {
            OrganizationId = organizationId, CameraId = cameraId, Sequence = 0, StartTime = start, DurationMs = 4000, ObjectName = "segments/000000000000.m4s", Size = 100_000,
            Sha256 = new byte[32], KeyId = keyId, Iv = new byte[16], InitObjectName = "init/trail.mp4", Codec = "avc1.64001f", Width = 1280, Height = 720, IndexedAt = start,
        });
        await index.SaveChangesAsync();
    }

    async Task SkipToLatestEntryAsync() =>
        _lastEntry = await _factory.WithDirectoryAsync(db => db.AuditEntries.MaxAsync(e => (long?)e.Id)) ?? 0;
}

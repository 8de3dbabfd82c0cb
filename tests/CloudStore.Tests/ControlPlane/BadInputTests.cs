using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// Bad input on every endpoint that takes a body or an id: always a 4xx RFC 7807 problem, never a 500,
/// and nothing stored. The endpoints come from the running app, so a new one is covered without
/// editing this file.
/// </summary>
public sealed class BadInputTests(BadInputTests.Setup setup) : IClassFixture<BadInputTests.Setup>
{
    public static TheoryData<string, string> BodyCases()
    {
        var data = new TheoryData<string, string>();
        using var factory = new FunctionsFactory();
        foreach (var endpoint in Endpoints(factory.Services).Where(e => e.RequestType is not null))
        {
            foreach (var flaw in new[] { "malformed json", "array instead of object", "every field the wrong type", "unknown field", "empty body", "huge strings", "null fields" })
            {
                if (flaw != "huge strings" || endpoint.RequestType!.GetProperties().Any(p => p.PropertyType == typeof(string)))
                {
                    data.Add(endpoint.Key, flaw);
                }
            }
        }

        return data;
    }

    public static TheoryData<string, string> PathCases()
    {
        var data = new TheoryData<string, string>();
        using var factory = new FunctionsFactory();
        foreach (var endpoint in Endpoints(factory.Services).Where(e => e.Pattern.Contains("{id:guid}", StringComparison.Ordinal)))
        {
            // Literal "../" is resolved by the client before sending (RFC 3986 §5.2.4), so only encoded forms reach the server.
            foreach (var flaw in new[] { "unknown id", "not a guid", "encoded traversal", "encoded dots", "overlong id", "empty id" })
            {
                data.Add(endpoint.Key, flaw);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BodyCases))]
    public async Task Endpoint_BadBody_ProblemResponseAndNothingStored(string endpoint, string flaw)
    {
        var target = Endpoints(setup.Factory.Services).Single(e => e.Key == endpoint);
        var before = await setup.CountAllAsync();
        using var client = setup.ClientFor(target);
        using var request = new HttpRequestMessage(new HttpMethod(target.Method), Concrete(target.Pattern, Guid.NewGuid().ToString()))
        {
            Content = new StringContent(Body(target.RequestType!, flaw), Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request);

        await AssertProblemAsync(response, endpoint, flaw);
        await AssertNamesFieldAsync(response, target.RequestType!, endpoint, flaw);
        Assert.Equal(before, await setup.CountAllAsync());
    }

    /// <summary>
    /// A body that fails binding names the field and the reason in the problem's <c>errors</c>, where the framework
    /// answered a bare "400 Bad Request"; optional fields may be left out.
    /// </summary>
    [Theory]
    [InlineData("POST /api/devices/{device}/cameras", "{\"name\":\"Door\"}", "channel", "Required.")]
    [InlineData("POST /api/devices/{device}/cameras", "{\"name\":\"Door\",\"channel\":\"one\"}", "channel", "Expected a whole number")]
    [InlineData("POST /api/devices/{device}/cameras", "{\"name\":null,\"channel\":1}", "name", "Expected a string.")]
    [InlineData("POST /api/devices/{device}/cameras", "{\"name\":\"Door\",\"channel\":1,\"isAdmin\":true}", "isAdmin", "Not a field of this request.")]
    [InlineData("POST /api/devices/{device}/cameras", "{}", "name", "Required.")]
    [InlineData("POST /api/devices/{device}/cameras", "{\"name\":", "name", "Not valid JSON")]
    [InlineData("POST /api/devices/{device}/cameras", "[1]", "body", "Expected an object.")]
    [InlineData("POST /api/devices/{device}/cameras", "", "body", "A JSON object is required.")]
    [InlineData("POST /api/cameras/{camera}/exports", "{\"from\":\"yesterday\",\"to\":\"2026-11-01T00:00:00Z\"}", "from", "Expected a date and time")]
    [InlineData("POST /api/cameras/{camera}/holds", "{\"from\":\"2026-11-01T00:00:00Z\",\"to\":\"2026-11-02T00:00:00Z\"}", "caseReference", "Required.")]
    [InlineData("POST /api/auth/two-factor", "{\"code\":\"123456\"}", "challenge", "Required.")]
    [InlineData("POST /api/segments", "{\"cameraId\":\"00000000-0000-0000-0000-000000000001\",\"initSegments\":[],\"segments\":[{\"sequence\":1}]}", "segments[0].startTime", "Required.")]
    [InlineData("POST /api/segments", "{\"cameraId\":\"00000000-0000-0000-0000-000000000001\",\"initSegments\":[{\"objectName\":7}],\"segments\":[]}", "initSegments[0].objectName", "Expected a string.")]
    [InlineData("GET /api/audit?limit=many", null, "limit", "Expected a whole number")]
    [InlineData("GET /api/cameras/{camera}/timeline?from=2026-11-01T00:00:00Z", null, "to", "Required.")]
    [InlineData("GET /api/cameras/{camera}/playlist.m3u8?from=2026-11-01T00:00:00Z&to=tomorrow", null, "to", "Expected a date and time")]
    public async Task Body_NotBindable_ValidationProblemNamingFieldAndReason(string request, string? body, string field, string reason)
    {
        var before = await setup.CountAllAsync();
        using var response = await SendAsync(request, body);

        await AssertProblemAsync(response, request, body ?? "");
        Assert.Equal(400, (int)response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var messages = problem.RootElement.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out var named) ? named.EnumerateArray().Select(m => m.GetString()!).ToList() : [];
        Assert.True(messages.Any(m => m.StartsWith(reason, StringComparison.Ordinal)), $"{request} {body}: {problem.RootElement}");
        Assert.Equal(before, await setup.CountAllAsync());
    }

    /// <summary>Fields that are semantically optional may be left out: the request binds and is judged on what it says.</summary>
    [Theory]
    [InlineData("POST /api/auth/two-factor", "{\"challenge\":\"not-a-challenge\",\"code\":\"123456\"}", 401)]
    [InlineData("POST /api/auth/two-factor", "{\"challenge\":\"not-a-challenge\",\"recoveryCode\":\"ABCDE-12345\"}", 401)]
    [InlineData("POST /api/auth/token", "{\"refresh_token\":\"not-a-refresh-token\"}", 401)]
    [InlineData("PUT /api/cameras/{camera}/retention", "{}", 200)]
    public async Task Body_OptionalFieldsOmitted_Binds(string request, string body, int status)
    {
        using var response = await SendAsync(request, body);

        Assert.True(status == (int)response.StatusCode, $"{request} {body}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>
    /// Times outside what the API accepts, or a range backwards: a 400 problem stating the allowed times in its detail,
    /// never a 500 (0001-01-01 overflowed the playlist's date arithmetic).
    /// </summary>
    [Theory]
    [InlineData("timeline", "0001-01-01T00:00:00Z", "2026-11-01T00:00:00Z")]
    [InlineData("timeline", "2026-11-01T00:00:00Z", "9999-12-31T23:59:59Z")]
    [InlineData("timeline", "9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z")]
    [InlineData("timeline", "2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z")]
    [InlineData("playlist", "0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z")]
    [InlineData("playlist", "0001-01-01T00:00:00Z", "2026-11-01T00:00:00Z")]
    [InlineData("playlist", "9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z")]
    [InlineData("playlist", "2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z")]
    [InlineData("exports", "0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z")]
    [InlineData("exports", "9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z")]
    [InlineData("exports", "2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z")]
    [InlineData("audit", "0001-01-01T00:00:00Z", "2026-11-01T00:00:00Z")]
    [InlineData("audit", "2026-11-01T00:00:00Z", "9999-12-31T23:59:59Z")]
    [InlineData("audit", "2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z")]
    [InlineData("holds", "0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z")]
    [InlineData("holds", "9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z")]
    [InlineData("holds", "2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z")]
    public async Task TimeRange_OutsideTheAllowedTimesOrBackwards_ValidationProblemStatingThem(string endpoint, string from, string to)
    {
        var before = await setup.CountAllAsync();
        var audited = await setup.Factory.CountAsync<CloudStore.ControlPlane.Audit.AuditEntry>();
        var range = $"\"from\":\"{from}\",\"to\":\"{to}\"";
        var query = $"?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}";
        using var response = endpoint switch
        {
            "timeline" => await SendAsync("GET /api/cameras/{camera}/timeline" + query, null),
            "playlist" => await SendAsync("GET /api/cameras/{camera}/playlist.m3u8" + query, null),
            "exports" => await SendAsync("POST /api/cameras/{camera}/exports", "{" + range + "}"),
            "audit" => await SendAsync("GET /api/audit" + query, null),
            _ => await SendAsync("POST /api/cameras/{camera}/holds", "{" + range + ",\"caseReference\":\"CASE-1\"}"),
        };

        await AssertProblemAsync(response, endpoint, $"{from}/{to}");
        Assert.Equal(400, (int)response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("2020-01-01T00:00:00Z to 2100-01-01T00:00:00Z", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(from.StartsWith("0001", StringComparison.Ordinal) ? "from" : "to", out _), problem.RootElement.ToString());
        Assert.Equal(before, await setup.CountAllAsync());
        Assert.Equal(audited, await setup.Factory.CountAsync<CloudStore.ControlPlane.Audit.AuditEntry>());
    }

    /// <summary>Sends "METHOD path" with {device} and {camera} of the fixture, as the caller the endpoint is meant for.</summary>
    async Task<HttpResponseMessage> SendAsync(string request, string? body)
    {
        var (method, path) = (request[..request.IndexOf(' ', StringComparison.Ordinal)], request[(request.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        path = path.Replace("{device}", setup.Camera.DeviceId.ToString(), StringComparison.Ordinal).Replace("{camera}", setup.Camera.CameraId.ToString(), StringComparison.Ordinal);
        using var client = path.StartsWith("/api/segments", StringComparison.Ordinal) ? setup.DeviceClient() : path.StartsWith("/api/auth/", StringComparison.Ordinal) ? setup.Factory.NewClient() : setup.AdministratorClient();
        using var message = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            message.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return await client.SendAsync(message);
    }

    [Theory]
    [MemberData(nameof(PathCases))]
    public async Task Endpoint_BadId_ProblemResponseAndNothingStored(string endpoint, string flaw)
    {
        var target = Endpoints(setup.Factory.Services).Single(e => e.Key == endpoint);
        var before = await setup.CountAllAsync();
        using var client = setup.ClientFor(target);
        var id = flaw switch
        {
            "unknown id" => Guid.NewGuid().ToString(),
            "not a guid" => "not-a-guid",
            "encoded traversal" => "..%2F..%2Fusers",
            "encoded dots" => $"{setup.AdministratorId}%2F%2E%2E%2F%2E%2E%2Fusers",
            "overlong id" => setup.AdministratorId + new string('0', 4000),
            _ => "%20",
        };
        using var request = new HttpRequestMessage(new HttpMethod(target.Method), Concrete(target.Pattern, id));
        if (target.RequestType is not null)
        {
            request.Content = new StringContent(Body(target.RequestType, "valid"), Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);

        await AssertProblemAsync(response, endpoint, flaw);
        Assert.Equal(before, await setup.CountAllAsync());
    }

    /// <summary>Deletions whose choice or confirmation is missing or wrong: a 4xx problem that says why, and nothing deleted.</summary>
    [Theory]
    [InlineData("camera", "")]
    [InlineData("camera", "?recordings=")]
    [InlineData("camera", "?recordings=DELETE")]
    [InlineData("camera", "?recordings=delete&recordings=keep")]
    [InlineData("camera", "?recordings=purge")]
    [InlineData("device", "")]
    [InlineData("device", "?recordings=maybe")]
    [InlineData("device", "?keep=true")]
    public async Task Delete_WithoutAClearRecordingsChoice_ValidationProblemNamingIt_NothingDeleted(string what, string query)
    {
        var ids = setup.Camera;
        var before = await setup.CountAllAsync();
        using var client = setup.AdministratorClient();

        using var response = await client.DeleteAsync(what == "camera" ? $"/api/cameras/{ids.CameraId}{query}" : $"/api/devices/{ids.DeviceId}{query}");

        await AssertProblemAsync(response, $"DELETE {what}", query);
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("recordings", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await setup.CountAllAsync());
    }

    [Theory]
    [InlineData("another organisation's name")]
    [InlineData("")]
    [InlineData("lower case of the name")]
    public async Task DeleteOrganization_WrongConfirmationName_ValidationProblem_NothingDeleted_CodeNotSpent(string typed)
    {
        var name = await setup.OrganizationNameAsync();
        var confirm = typed == "lower case of the name" ? name.ToLowerInvariant() : typed;
        var before = await setup.CountAllAsync();
        using var client = setup.AdministratorClient();
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/organization")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new CloudStore.Contracts.DeleteOrganizationRequest(confirm, "123456")),
        };

        using var response = await client.SendAsync(request);

        await AssertProblemAsync(response, "DELETE /api/organization", typed);
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal(before, await setup.CountAllAsync());
    }

    /// <summary>
    /// Tamper reports that name no file a player could have checked: a 400 problem naming the field (a time or part that
    /// cannot be a segment's, or a body that does not bind), nothing marked or audited.
    /// </summary>
    [Theory]
    [InlineData("part", "\"segmentStart\":\"2026-11-01T00:00:00Z\",\"part\":\"\"")]
    [InlineData("part", "\"segmentStart\":\"2026-11-01T00:00:00Z\",\"part\":\"Segment\"")]
    [InlineData("part", "\"segmentStart\":\"2026-11-01T00:00:00Z\",\"part\":\"media\"")]
    [InlineData("segmentStart", "\"segmentStart\":\"2019-12-31T23:59:59Z\",\"part\":\"segment\"")]
    [InlineData("segmentStart", "\"segmentStart\":\"2999-01-01T00:00:00Z\",\"part\":\"init\"")]
    [InlineData("segmentStart", "\"segmentStart\":\"0001-01-01T00:00:00Z\",\"part\":\"segment\"")]
    [InlineData("segmentStart", "\"segmentStart\":\"yesterday\",\"part\":\"segment\"")]
    [InlineData("segmentStart", "\"segmentStart\":1764547200000,\"part\":\"segment\"")]
    [InlineData("part", "\"segmentStart\":\"2026-11-01T00:00:00Z\"")]
    [InlineData("part", "\"segmentStart\":\"2026-11-01T00:00:00Z\",\"part\":null")]
    [InlineData("sequence", "\"segmentStart\":\"2026-11-01T00:00:00Z\",\"part\":\"segment\",\"sequence\":7")]
    public async Task TamperReport_ImplausibleClaim_ValidationProblem_NothingMarkedOrAudited(string field, string members)
    {
        var before = await setup.CountAllAsync();
        var audited = await setup.Factory.CountAsync<CloudStore.ControlPlane.Audit.AuditEntry>();
        using var client = setup.AdministratorClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/cameras/{setup.Camera.CameraId}/tamper-reports")
        {
            Content = new StringContent("{" + members + "}", Encoding.UTF8, "application/json"),
        };

        using var response = await client.SendAsync(request);

        await AssertProblemAsync(response, "POST tamper-reports", members);
        Assert.Equal(400, (int)response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), problem.RootElement.ToString());

        Assert.Equal(before, await setup.CountAllAsync());
        Assert.Equal(audited, await setup.Factory.CountAsync<CloudStore.ControlPlane.Audit.AuditEntry>());
    }

    static async Task AssertProblemAsync(HttpResponseMessage response, string endpoint, string flaw)
    {
        var text = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{endpoint} with {flaw}: {status} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
    }

    /// <summary>
    /// A 400 names in its errors what was wrong: the body as a whole, the unknown field, the field the JSON broke off at,
    /// or one of the request's fields. (Another status, such as 404 for a body that binds but names nothing, has no field to name.)
    /// </summary>
    static async Task AssertNamesFieldAsync(HttpResponseMessage response, Type requestType, string endpoint, string flaw)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != System.Net.HttpStatusCode.BadRequest)
        {
            Assert.True(flaw is "huge strings" or "null fields", $"{endpoint} with {flaw}: {(int)response.StatusCode}, not 400, for a body that cannot bind: {text}");
            return;
        }

        using var problem = JsonDocument.Parse(text);
        Assert.True(problem.RootElement.TryGetProperty("errors", out var errors), $"{endpoint} with {flaw}: no errors in {text}");
        var fields = errors.EnumerateObject().Select(e => e.Name).ToList();
        var names = requestType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(Name).ToList();
        var expected = flaw switch
        {
            "array instead of object" or "empty body" => ["body"],
            "unknown field" => ["isAdmin"],
            "malformed json" => [names[0]],
            _ => names,
        };
        Assert.True(fields.Any(f => expected.Contains(f.Split('.', '[')[0])), $"{endpoint} with {flaw}: errors name [{string.Join(", ", fields)}], expected one of [{string.Join(", ", expected)}]");
    }

    static readonly int[] WrongForString = [1];

    /// <summary>A request body of the endpoint's request type, broken in the named way.</summary>
    static string Body(Type requestType, string flaw)
    {
        var properties = requestType.GetProperties(BindingFlags.Public | BindingFlags.Instance);
        return flaw switch
        {
            "malformed json" => "{\"" + Name(properties[0]) + "\": ",
            "array instead of object" => "[1, 2, 3]",
            "every field the wrong type" => JsonSerializer.Serialize(properties.ToDictionary(Name, p => p.PropertyType == typeof(string) ? (object)WrongForString : "text")),
            "unknown field" => JsonSerializer.Serialize(properties.ToDictionary(Name, Valid).Append(new("isAdmin", true)).ToDictionary()),
            "empty body" => "",
            "huge strings" => JsonSerializer.Serialize(properties.ToDictionary(Name, p => p.PropertyType == typeof(string) ? new string('A', 60_000 / properties.Length) : Valid(p))),
            "null fields" => JsonSerializer.Serialize(properties.ToDictionary(Name, p => (object?)null)),
            _ => JsonSerializer.Serialize(properties.ToDictionary(Name, Valid)),
        };
    }

    static string Name(PropertyInfo property) =>
        property.GetCustomAttribute<System.Text.Json.Serialization.JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);

    /// <summary>A value of the property's type (the request as a whole may still be refused for what it says).</summary>
    static object? Valid(PropertyInfo property) => (Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType) switch
    {
        var t when t == typeof(bool) => true,
        var t when t == typeof(int) => 1,
        var t when t == typeof(Guid) => Guid.NewGuid(),
        var t when t == typeof(DateTimeOffset) => "2026-11-01T00:00:00Z",
        var t when t != typeof(string) && t.IsAssignableTo(typeof(System.Collections.IEnumerable)) => Array.Empty<object>(),
        _ => "x",
    };

    /// <summary>The path with <paramref name="id"/> for <c>{id:guid}</c>, and a new (unknown) id for any other guid parameter.</summary>
    static string Concrete(string pattern, string id) =>
        System.Text.RegularExpressions.Regex.Replace(pattern.Replace("{id:guid}", id, StringComparison.Ordinal), "\\{[A-Za-z]+:guid\\}", _ => Guid.NewGuid().ToString())
            .TrimEnd('/') is { Length: > 0 } path ? path : "/";

    public sealed record Endpoint(string Method, string Pattern, Type? RequestType, bool AllowsAnonymous, string? Policy)
    {
        public string Key => $"{Method} {Pattern}";
    }

    static List<Endpoint> Endpoints(IServiceProvider services) =>
    [
        .. services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(method => new Endpoint(
                method,
                e.RoutePattern.RawText!,
                e.Metadata.GetOrderedMetadata<IAcceptsMetadata>().Select(a => a.RequestType).FirstOrDefault(t => t is not null),
                e.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAllowAnonymous>() is not null,
                e.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null)))),
    ];

    /// <summary>
    /// One organisation homed in Frankfurt (an index of its own; nothing here reaches storage), its administrator and an
    /// enrolled device: the callers the endpoints expect, and a camera whose playlist and timeline reach the index.
    /// </summary>
    public sealed class Setup : IAsyncLifetime
    {
        public FunctionsFactory Factory { get; } = new();

        public Setup()
        {
            Factory.With($"Regions:{Regions.EuFrankfurt}:Storage:ConnectionString", "UseDevelopmentStorage=true")
                .With($"Regions:{Regions.EuFrankfurt}:Index:ConnectionString", $"Data Source={Path.Combine(Factory.Folder, "index-frankfurt.db")}");
        }

        TestTenant _tenant = null!;
        string _deviceToken = null!;

        public Guid AdministratorId => _tenant.Administrator.Id;

        public async Task InitializeAsync()
        {
            _tenant = await TestTenant.CreateAsync(Factory);
            using (var admin = _tenant.Client(_tenant.Administrator))
            using (var homed = await admin.PutAsJsonAsync("/api/organization/region", new OrganizationRegionRequest(Regions.EuFrankfurt)))
            {
                homed.EnsureSuccessStatusCode();
            }

            _deviceToken = (await _tenant.EnrolDeviceAsync("BADINPUT0001")).AccessToken;
            var cameraId = await _tenant.AddCameraAsync("BADINPUT0002", "Bad input");
            Camera = (await Factory.WithDirectoryAsync(db => db.Cameras.Where(c => c.Id == cameraId).Select(c => c.DeviceId).SingleAsync()), cameraId);
        }

        public HttpClient AdministratorClient() => _tenant.Client(_tenant.Administrator);

        public HttpClient DeviceClient() => Factory.ClientWithToken(_deviceToken);

        /// <summary>A device with one camera, for the deletion cases.</summary>
        public (Guid DeviceId, Guid CameraId) Camera { get; private set; }

        public Task<string> OrganizationNameAsync() =>
            Factory.WithDirectoryAsync(db => db.Organizations.Where(o => o.Id == _tenant.OrganizationId).Select(o => o.Name).SingleAsync());

        /// <summary>The caller the endpoint is meant for, so the request gets past authorisation to the input checks.</summary>
        public HttpClient ClientFor(Endpoint endpoint) => endpoint.Policy switch
        {
            _ when endpoint.AllowsAnonymous => Factory.NewClient(),
            "device" => Factory.ClientWithToken(_deviceToken),
            _ => _tenant.Client(_tenant.Administrator),
        };

        /// <summary>Row counts of every directory table except the audit log (refusals are audited by design).</summary>
        public Task<string> CountAllAsync() => Factory.WithDirectoryAsync(async db => string.Join(",",
            await db.Organizations.CountAsync(), await db.Users.CountAsync(), await db.UserTokens.CountAsync(), await db.Devices.CountAsync(),
            await db.Cameras.CountAsync(), await db.RefreshTokens.CountAsync(), await db.SignInChallenges.CountAsync(), await db.UsedAssertions.CountAsync(),
            await db.Devices.CountAsync(d => d.Status != global::CloudStore.ControlPlane.Devices.DeviceStatus.Pending),
            await db.Cameras.CountAsync(c => c.Enabled), await db.Users.SumAsync(u => u.AccessFailedCount),
            await db.LegalHolds.CountAsync(), await db.LegalHolds.CountAsync(h => h.ReleasedAt != null),
            await db.Cameras.CountAsync(c => c.RetentionDays != null), await db.Organizations.SumAsync(o => o.DefaultRetentionDays),
            await db.AccountTokens.CountAsync(), await db.AccountTokens.CountAsync(t => t.UsedAt != null), await db.Users.CountAsync(u => u.PasswordHash == null),
            await db.Organizations.CountAsync(o => o.DeletedAt != null), await db.OrganizationTombstones.CountAsync(),
            await db.Devices.CountAsync(d => d.DeletedAt != null), await db.Cameras.CountAsync(c => c.DeletedAt != null),
            await db.Users.CountAsync(u => u.DisabledAt != null)));

        public Task DisposeAsync() => Factory.DisposeAsync().AsTask();
    }
}

using System.Net;
using System.Text.Json.Nodes;
using CloudStore.ControlPlane.Platform;
using CloudStore.Functions.Local;
using CloudStore.LocalStack;
using CloudStore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace CloudStore.Tests.Stack;

/// <summary>
/// The two front doors of the control plane stay one: the Azure Functions app (what is deployed, whose host
/// cannot run here) declares exactly the operations the local host serves, with the same routes, methods
/// and schedules, and a request handed over as the Functions host hands it gets the local host's answer.
/// </summary>
public sealed class FunctionAppTests : IDisposable
{
    static readonly string BuildOutput = Path.Combine(RepositoryLayout.Root, "functions", "CloudStore.Functions", "bin", RepositoryLayout.Configuration, "net10.0");

    readonly FunctionsFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    public sealed record Operation(string Name, string Route, string Methods);

    static JsonArray Metadata() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(BuildOutput, "functions.metadata")))!.AsArray();

    static IEnumerable<(string Name, JsonNode Trigger)> Triggers(string type) =>
        Metadata().Select(f => (f!["name"]!.GetValue<string>(), f["bindings"]!.AsArray().Single(b => b!["type"]!.GetValue<string>().EndsWith("Trigger", StringComparison.Ordinal))!))
            .Where(f => f.Item2["type"]!.GetValue<string>() == type);

    [Fact]
    public void FunctionsMetadata_EveryOperationOfTheLocalHost_IsAFunctionWithTheSameRouteAndMethods()
    {
        var functions = Triggers("httpTrigger")
            .Select(f => new Operation(f.Name, f.Trigger["route"]!.GetValue<string>(),
                string.Join(',', f.Trigger["methods"]!.AsArray().Select(m => m!.GetValue<string>().ToUpperInvariant()).Order(StringComparer.Ordinal))))
            .OrderBy(o => o.Name, StringComparer.Ordinal).ToList();

        var local = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText != LocalOnlyRoutes.OpenApi)
            .Select(e => new Operation(
                e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? $"(unnamed: {e.RoutePattern.RawText})",
                OperationTable.FunctionRoute(e.RoutePattern),
                string.Join(',', e.Metadata.GetRequiredMetadata<IHttpMethodMetadata>().HttpMethods.Order(StringComparer.Ordinal))))
            .OrderBy(o => o.Name, StringComparer.Ordinal).ToList();

        Assert.True(local.Count > 30, $"only {local.Count} local operations found");
        Assert.Equal(local, functions);
    }

    [Fact]
    public void FunctionsMetadata_Timers_RunTheLocalHostsSchedules()
    {
        var timers = Triggers("timerTrigger").ToDictionary(t => t.Name, t => t.Trigger["schedule"]!.GetValue<string>());

        Assert.Equal(ScheduledJobs.All.OrderBy(j => j.Key, StringComparer.Ordinal), timers.OrderBy(t => t.Key, StringComparer.Ordinal));
    }

    [Fact]
    public void FunctionApp_BuildOutput_IsAnIsolatedWorkerAppWithoutACustomHandler()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(BuildOutput, "host.json")))!;
        var worker = JsonNode.Parse(File.ReadAllText(Path.Combine(BuildOutput, "worker.config.json")))!;

        Assert.Equal("2.0", host["version"]!.GetValue<string>());
        Assert.Null(host["customHandler"]);
        Assert.Equal("api", host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>());
        Assert.Equal("CloudStore.Functions.dll", worker["description"]!["defaultWorkerPath"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(BuildOutput, "extensions.json")));
    }

    [Fact]
    public async Task OperationTable_RequestHandedOverAsTheFunctionsHostDoes_AnsweredAsTheLocalHostAnswers()
    {
        var tenant = await TestTenant.CreateAsync(_factory, "FrontDoor");
        using var viaLocalHost = tenant.Client(tenant.Administrator);
        var expected = await viaLocalHost.GetStringAsync(new Uri("/api/organization/", UriKind.Relative));

        var anonymous = await InvokeAsFunctionAsync("GetOrganization", "GET", "/api/organization", accessToken: null);
        var administrator = await InvokeAsFunctionAsync("GetOrganization", "GET", "/api/organization", tenant.Administrator.Tokens!.AccessToken);
        var wrongRole = await InvokeAsFunctionAsync("ListUsers", "GET", "/api/users", (await tenant.SignInAsync(await tenant.AddUserAsync("viewer"))).AccessToken);
        var badId = await InvokeAsFunctionAsync("GetCamera", "GET", $"/api/cameras/{Guid.NewGuid()}", tenant.Administrator.Tokens!.AccessToken,
            route: ("id", Guid.NewGuid().ToString()));

        Assert.Equal(StatusCodes.Status401Unauthorized, anonymous.Status);
        Assert.Equal(StatusCodes.Status200OK, administrator.Status);
        Assert.Equal(JsonNode.Parse(expected)!.ToJsonString(), JsonNode.Parse(administrator.Body)!.ToJsonString());
        Assert.Equal("nosniff", administrator.Headers["X-Content-Type-Options"]);
        Assert.Equal(StatusCodes.Status403Forbidden, wrongRole.Status);
        Assert.Equal(StatusCodes.Status404NotFound, badId.Status);
        Assert.Equal("application/problem+json", badId.Headers.ContentType.ToString());
    }

    [Fact]
    public async Task Health_KeyServerUnreachable_503NamingItWhileTheDatabasesAreHealthy()
    {
        using var client = _factory.NewClient();

        using var response = await client.GetAsync(new Uri("/api/health", UriKind.Relative));
        var report = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Healthy", report["checks"]!["directory"]!["status"]!.GetValue<string>());
        Assert.Equal("Healthy", report["checks"]!["regions"]!["status"]!.GetValue<string>());
        Assert.Equal("Unhealthy", report["checks"]!["keyserver"]!["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Player:Origin", "http://player.test")]
    [InlineData("Player:Origin", "")]
    [InlineData("Mail:SmtpHost", "")]
    [InlineData("Mail:FromAddress", "not-an-address")]
    [InlineData("Auth:PasswordResetLifetime", "2.00:00:00")]
    [InlineData("KeyServer:Url", "http://keyserver.test")]
    [InlineData("Playback:ReadUrlLifetime", "2.00:00:00")]
    [InlineData("Directory:Provider", "oracle")]
    [InlineData("Retention:MaxSegmentsPerCameraPerRun", "0")]
    [InlineData("Retention:DeleteBatchSize", "1001")]
    public void ControlPlane_BadSetting_RefusesToStartNamingIt(string key, string value)
    {
        using var factory = new FunctionsFactory().With(key, value);

        var refused = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains(key.Split(':')[0], refused.Message, StringComparison.Ordinal);
    }

    sealed record Answer(int Status, string Body, IHeaderDictionary Headers);

    /// <summary>As the Functions host's ASP.NET Core integration does: route values set by its router, then the function's result executed.</summary>
    async Task<Answer> InvokeAsFunctionAsync(string function, string method, string path, string? accessToken, (string Name, string Value)? route = null)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("functions.cloudstore.test");
        context.Request.Path = path;
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        if (accessToken is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + accessToken;
        }

        if (route is { } value)
        {
            context.Request.RouteValues[value.Name] = value.Value;
        }

        using var body = new MemoryStream();
        var response = new StartableResponse();
        context.Features.Set<IHttpResponseFeature>(response);
        context.Response.Body = body;
        await _factory.Services.GetRequiredService<OperationTable>().Result(function).ExecuteAsync(context);
        await response.StartAsync();
        return new Answer(context.Response.StatusCode, System.Text.Encoding.UTF8.GetString(body.ToArray()), context.Response.Headers);
    }

    /// <summary>A response that runs its OnStarting callbacks when started, as a server does (headers set late, e.g. security headers).</summary>
    sealed class StartableResponse : HttpResponseFeature
    {
        readonly List<(Func<object, Task> Callback, object State)> _starting = [];

        public override void OnStarting(Func<object, Task> callback, object state) => _starting.Insert(0, (callback, state));

        public async Task StartAsync()
        {
            foreach (var (callback, state) in _starting)
            {
                await callback(state);
            }
        }
    }
}

using CloudStore.ControlPlane;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Organizations;
using CloudStore.Functions.Local;
using CloudStore.Hosting;

// The control plane in a plain ASP.NET Core host, for ./cloudstore demo and the tests: the same services,
// middleware and operations as the Azure Functions app (CloudStore.Functions), with ASP.NET Core's own
// routing in place of the Functions host's, and Cronos in place of its timers. Every route lives under /api.
var builder = WebApplication.CreateBuilder(args);
var isCommand = OperationsCommands.IsCommand(args);
if (isCommand)
{
    // An operations command prints its result on stdout; logs go to stderr.
    builder.Logging.SetMinimumLevel(LogLevel.Warning).AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
}

builder.UseCloudStoreKestrel(Limits.MaxRequestBodyBytes);
builder.AddControlPlane();
builder.Services.AddOpenApi();
if (!isCommand)
{
    builder.Services.AddHostedService<LocalSchedule>();
}

var app = builder.Build();
app.UseControlPlane();
app.MapControlPlane();
app.MapOpenApi(LocalOnlyRoutes.OpenApi);

if (OperationsCommands.IsMigrate(args))
{
    return await OperationsCommands.MigrateAsync(app.Services, app.Lifetime.ApplicationStopping);
}

await app.Services.InitializeControlPlaneAsync(app.Lifetime.ApplicationStopping);
if (isCommand)
{
    return await OperationsCommands.RunAsync(app.Services, args);
}

await app.RunAsync();
return 0;

/// <summary>Entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;

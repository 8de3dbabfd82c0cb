using CloudStore.ControlPlane;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

// The control plane as an Azure Functions app (isolated worker with ASP.NET Core integration). The
// Functions host routes each HTTP request to a [Function] (Http/), which runs the control-plane operation
// of the same name behind the same middleware as the local host; timers (Timers/) run scheduled work.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.AddControlPlane();

var app = builder.Build();
using (var starting = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
{
    await app.Services.InitializeControlPlaneAsync(starting.Token);
}

await app.RunAsync();

using System.IO.Compression;
using System.Net;
using System.Text;
using CloudStore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Xunit;

namespace CloudStore.Tests.Observability;

/// <summary>A host with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set exports over OTLP/HTTP, and no URL query reaches the exported telemetry.</summary>
public sealed class TelemetryExportTests
{
    const string Secret = "SECRETVALUE";

    [Fact]
    public async Task KeyServer_OtlpEndpointSet_ExportsSpansWithoutQueryStrings()
    {
        await using var receiver = LoopbackReceiver.Start();
        var keyServer = new KeyServerFactory()
            .With("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint.ToString())
            .With("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .With("OTEL_BSP_SCHEDULE_DELAY", "100")
            .With("OTEL_BLRP_SCHEDULE_DELAY", "100");
        await using (keyServer)
        {
            using var client = keyServer.CreateClient();
            using (var health = await client.GetAsync("/health"))
            {
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            }

            using (var refused = await client.GetAsync($"/v1/caller?sv=2025-01-05&sig={Secret}"))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            }

            // An outgoing call through the host's client factory with a signature in its query, as a storage call has.
            using (var outgoing = keyServer.Services.GetRequiredService<IHttpClientFactory>().CreateClient())
            using (var stored = await outgoing.GetAsync(new Uri(receiver.Endpoint, $"/container/segment.m4s?sv=2025-01-05&sig={Secret}")))
            {
                Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
            }

            await receiver.WaitForAsync(r => r.Path == "/v1/traces" && r.Contains("/v1/caller"), "the server span of GET /v1/caller");
            await receiver.WaitForAsync(r => r.Path == "/v1/traces" && r.Contains("/container/segment.m4s"), "the client span of the outgoing GET");
        }

        // Disposed: the host has flushed its logs and metrics too.
        var received = receiver.Requests;
        Assert.Contains(received, r => r.Path == "/v1/traces" && r.Contains("cloudstore-keyserver"));
        Assert.Contains(received, r => r.Path == "/v1/logs");
        // Probes make no server span ("GET /health"). Client spans of other tests in this process may name /health: the
        // HttpClient and ASP.NET Core listeners are process-wide.
        Assert.DoesNotContain(received, r => r.Path == "/v1/traces" && r.Contains("GET /health"));
        Assert.DoesNotContain(received, r => r.Contains(Secret));
        Assert.DoesNotContain(received, r => r.Contains("sig="));
    }

    [Fact]
    public async Task KeyServer_OtlpEndpointUnset_ExportsNothing()
    {
        await using var receiver = LoopbackReceiver.Start();
        // Only a signal's own endpoint, as a half-finished configuration might have: the exporter stays off
        // until OTEL_EXPORTER_OTLP_ENDPOINT names where telemetry goes.
        await using (var keyServer = new KeyServerFactory()
            .With("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", new Uri(receiver.Endpoint, "/v1/traces").ToString())
            .With("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .With("OTEL_BSP_SCHEDULE_DELAY", "100"))
        {
            using var client = keyServer.CreateClient();
            using var refused = await client.GetAsync("/v1/caller");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            await Task.Delay(500);
        }

        Assert.Empty(receiver.Requests);
    }

    [Fact]
    public async Task KeyServer_ApplicationInsightsConnectionStringSet_ExportsToAzureMonitorWithoutQueryStrings()
    {
        await using var receiver = LoopbackReceiver.Start();
        var connectionString = $"InstrumentationKey={Guid.NewGuid()};IngestionEndpoint={receiver.Endpoint}";
        // Its own offline store: telemetry another run left pending must not be sent to this receiver.
        var storage = Directory.CreateTempSubdirectory("cloudstore-azmon-").FullName;
        await using (var keyServer = new KeyServerFactory()
            .With("APPLICATIONINSIGHTS_CONNECTION_STRING", connectionString)
            .With(ServiceDefaults.AzureMonitorStorageDirectoryKey, storage))
        {
            using var client = keyServer.CreateClient();
            using var refused = await client.GetAsync($"/v1/caller?sv=2025-01-05&sig={Secret}");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);

            // Azure Monitor's exporter keeps what is pending at shutdown on disk for a later run; flushes send it now
            // (again while waiting: the server's span may end just after the client has its answer).
            var tracing = keyServer.Services.GetRequiredService<TracerProvider>();
            using var flushing = new CancellationTokenSource();
            var flusher = Task.Run(async () =>
            {
                while (!flushing.IsCancellationRequested)
                {
                    tracing.ForceFlush(5_000);
                    await Task.Delay(500, CancellationToken.None);
                }
            });
            try
            {
                await receiver.WaitForAsync(r => Text(r).Contains("/v1/caller", StringComparison.Ordinal), "the request telemetry of GET /v1/caller", seconds: 60);
            }
            finally
            {
                await flushing.CancelAsync();
                await flusher;
            }
        }

        Directory.Delete(storage, recursive: true);

        Assert.All(receiver.Requests, r => Assert.EndsWith("/track", r.Path, StringComparison.Ordinal));
        Assert.DoesNotContain(receiver.Requests, r => Text(r).Contains(Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(receiver.Requests, r => Text(r).Contains("sig=", StringComparison.Ordinal));
    }

    /// <summary>An Azure Monitor upload as text: JSON lines, gzip-compressed on the wire.</summary>
    static string Text(ReceivedRequest request)
    {
        if (request.Body is not [0x1f, 0x8b, ..])
        {
            return Encoding.UTF8.GetString(request.Body);
        }

        using var gzip = new GZipStream(new MemoryStream(request.Body), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.Device.Media;
using CloudStore.Device.Upload;
using Microsoft.Extensions.Logging;

// cloudstore-camera: the reference camera.
//   enrol  --api URL --code CODE --serial SERIAL [--key FILE] [--ca FILE] [--firmware 11.11.73]
//   whoami --api URL [--key FILE] [--ca FILE] [--firmware 11.11.73]
//   run    --api URL --camera ID [--camera ID ...] [--source generated|file:PATH|folder:PLAYLIST]
//          [--cache DIR] [--cache-mb 512] [--bandwidth-kbit 8000] [--segment-seconds 4] [--key FILE] [--ca FILE] [--firmware 11.11.73]
// The device's identity lives beside its key (FILE.device.json); `run` uploads until Ctrl-C (or the source ends).
// Every command that signs in reports --firmware (default 11.11.73) in its signed assertion; `enrol` signs in once
// right after enrolling, so an administrator can enable the cameras at once.
// Results and the per-camera counters go to stdout; the uploaders' log (retries, drops) to stderr.
var command = args.FirstOrDefault() ?? "";
var options = Options.Parse(args.Skip(1));
if (options.Get("--api") is not { } api)
{
    Console.Error.WriteLine("usage: cloudstore-camera enrol|whoami|run --api URL ... (see the comment at the top of Program.cs)");
    return 2;
}

var keyFile = options.Get("--key") ?? "device-key.pem";
var stateFile = keyFile + ".device.json";
using var key = DeviceKey.LoadOrCreate(keyFile);
using var handler = TrustedHttp.CreateHandler(options.Get("--ca"));
using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(api.TrimEnd('/') + "/") };
var client = new DeviceClient(http, key, TimeProvider.System, new DeviceClientOptions { FirmwareVersion = options.Get("--firmware") ?? DeviceClientOptions.DefaultFirmwareVersion });
using var stopping = new CancellationTokenSource();
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
{
    context.Cancel = true;
    stopping.Cancel();
});
try
{
    switch (command)
    {
        case "enrol" when options.Get("--code") is { } code && options.Get("--serial") is { } serial:
            var enrolled = await client.EnrolAsync(code, serial, stopping.Token);
            await File.WriteAllTextAsync(stateFile, JsonSerializer.Serialize(enrolled));
            Console.WriteLine($"Enrolled as device {enrolled.DeviceId} of organisation {enrolled.OrganizationId}.");

            // Sign in once: the token request reports the firmware, which enabling a camera checks.
            await client.AccessTokenAsync(enrolled.DeviceId, enrolled.AssertionAudience, stopping.Token);
            Console.WriteLine($"Reported firmware {options.Get("--firmware") ?? DeviceClientOptions.DefaultFirmwareVersion}.");
            return 0;
        case "whoami":
            var identity = await IdentityAsync(stateFile);
            var token = await client.AccessTokenAsync(identity.DeviceId, identity.AssertionAudience, stopping.Token);
            using (var request = new HttpRequestMessage(HttpMethod.Get, "devices/self"))
            {
                request.Headers.Authorization = new("Bearer", token);
                using var response = await http.SendAsync(request, stopping.Token);
                Console.WriteLine(await response.Content.ReadAsStringAsync(stopping.Token));
                return response.IsSuccessStatusCode ? 0 : 1;
            }

        case "run" when options.All("--camera").Count > 0:
            return await RunAsync(client, await IdentityAsync(stateFile), options, handler, stopping.Token);
        default:
            Console.Error.WriteLine("usage: cloudstore-camera enrol --code CODE --serial SERIAL | whoami | run --camera ID ...");
            return 2;
    }
}
catch (DeviceRequestRefusedException e)
{
    Console.Error.WriteLine($"Refused ({e.Status}): {e.Message}");
    return 1;
}
catch (HttpRequestException e)
{
    Console.Error.WriteLine($"Could not reach {api}: {e.Message}");
    return 1;
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    return 0;
}

static async Task<DeviceIdentity> IdentityAsync(string stateFile) =>
    DeviceIdentity.From(JsonSerializer.Deserialize<EnrolDeviceResponse>(await File.ReadAllTextAsync(stateFile))
        ?? throw new InvalidOperationException($"{stateFile} is empty: enrol first."));

static async Task<int> RunAsync(DeviceClient client, DeviceIdentity identity, Options options, HttpMessageHandler handler, CancellationToken stopping)
{
    var source = options.Get("--source") ?? "generated";
    VideoSource video = source switch
    {
        "generated" => new VideoSource.Generated(),
        _ when source.StartsWith("file:", StringComparison.Ordinal) => new VideoSource.File(source[5..]),
        _ when source.StartsWith("folder:", StringComparison.Ordinal) => new VideoSource.Folder(source[7..]),
        _ => throw new ArgumentException($"--source {source}: generated, file:PATH or folder:PLAYLIST."),
    };
    var cache = options.Get("--cache") ?? "camera-cache";
    using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.TimestampFormat = "HH:mm:ss ";
    }).AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
    var log = loggers.CreateLogger<CameraUploader>();
    var uploaders = options.All("--camera").Select(id => new CameraUploader(client, identity, new UploaderOptions
    {
        CameraId = Guid.Parse(id),
        CacheFolder = Path.Combine(cache, id),
        CacheCapacityBytes = options.Number("--cache-mb", 512) * 1024 * 1024,
        BandwidthBytesPerSecond = options.Get("--bandwidth-kbit") is null ? null : options.Number("--bandwidth-kbit", 0) * 1000 / 8,
        SegmentLength = TimeSpan.FromSeconds(options.Number("--segment-seconds", 4)),
        DeleteSourceFiles = video is not VideoSource.Folder,
    }, handler, TimeProvider.System, log)).ToList();
    try
    {
        var runs = uploaders.Select(u => u.RunAsync(video, stopping)).ToList();
        var all = Task.WhenAll(runs);
        var interval = TimeSpan.FromSeconds(2);
        var sent = new long[uploaders.Count];
        while (await Task.WhenAny(all, Task.Delay(interval, stopping)) != all)
        {
            foreach (var ((uploader, id), i) in uploaders.Zip(options.All("--camera")).Select((pair, i) => (pair, i)))
            {
                var bytes = uploader.Stats.BytesUploaded;
                var megabits = (bytes - sent[i]) * 8 / interval.TotalSeconds / 1e6;
                sent[i] = bytes;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"camera {id[..8]}: {uploader.Stats}, {megabits:F2} Mbit/s"));
            }
        }

        await all;
        return 0;
    }
    finally
    {
        uploaders.ForEach(u => u.Dispose());
    }
}

/// <summary>Command-line options: <c>--name value</c> pairs, names may repeat.</summary>
sealed class Options(List<(string Name, string Value)> pairs)
{
    public static Options Parse(IEnumerable<string> args)
    {
        var list = args.ToList();
        var pairs = new List<(string, string)>();
        for (var i = 0; i + 1 < list.Count; i += 2)
        {
            pairs.Add((list[i], list[i + 1]));
        }

        return new Options(pairs);
    }

    public string? Get(string name) => pairs.LastOrDefault(p => p.Name == name).Value;

    public List<string> All(string name) => [.. pairs.Where(p => p.Name == name).Select(p => p.Value)];

    public long Number(string name, long fallback) =>
        long.TryParse(Get(name), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : fallback;
}

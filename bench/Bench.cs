using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;

namespace CloudStore.Bench;

/// <summary>
/// Measures what the product does per segment and per playlist, on this machine, and prints it next to
/// the machine's raw crypto speed from <c>openssl speed</c> (run by <c>./cloudstore bench</c> first).
/// Each figure is the median of several runs after a warm-up.
/// </summary>
public static class Bench
{
    const int Runs = 7;

    /// <param name="args">
    /// <c>keyserver</c>: only the key server under load (a minute or two), for work on it. <c>cameras [N,N,…]</c>: only
    /// cameras per machine, at the default steps or those given. <c>ingest</c>: only index ingest through the API against
    /// raw INSERTs.
    /// </param>
    public static async Task<int> Main(string[] args)
    {
        Console.WriteLine($"CloudStore bench on {Environment.ProcessorCount} cores, .NET {Environment.Version}, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC");
        switch (args)
        {
            case ["keyserver"]:
                await KeyServerBench.RunAsync();
                return 0;
            case ["cameras", .. var steps]:
                await CamerasBench.RunAsync([.. steps.SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(s => int.Parse(s, CultureInfo.InvariantCulture))]);
                return 0;
            case ["ingest"]:
                await IndexIngestBench.RunAsync();
                return 0;
            case ["encryption"]:
                await EncryptionBench.RunAsync();
                return 0;
            case ["player"]:
                await PlaybackBench.RunAsync();
                return 0;
            case ["playlist"]:
                Playlists();
                return 0;
            case [_, ..]:
                await Console.Error.WriteLineAsync("usage: CloudStore.Bench [keyserver | cameras [N,N,…] | ingest | encryption | player | playlist]");
                return 2;
        }

        await EncryptionBench.RunAsync();
        var key = SegmentCipher.NewKey();

        using var rsa = RSA.Create(2048);
        var record = new BindingRecord(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), key);
        var wrap = Median(() => WrappedKey.Wrap(record, rsa, "eu-frankfurt/x/v1"));
        var wrapped = WrappedKey.Wrap(record, rsa, "eu-frankfurt/x/v1");
        var unwrap = Median(() => wrapped.Unwrap(rsa));
        Report("RSA-2048 OAEP-SHA256 wrap (camera, once per key)", wrap, $"{1 / wrap.TotalSeconds:F0} /s");
        Report("RSA-2048 OAEP-SHA256 unwrap (key server, per key)", unwrap, $"{1 / unwrap.TotalSeconds:F0} /s");

        Playlists();

        var names = Enumerable.Range(0, 21_600).Select(i => $"segments/{i:D12}.m4s").ToList();
        var azure = AzureCameraStorage.Create(new RegionStorageOptions
        {
            ConnectionString = "DefaultEndpointsProtocol=https;AccountName=bench;AccountKey=" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)) + ";BlobEndpoint=https://127.0.0.1:1/bench;",
        }, null);
        var now = TimeProvider.System.GetUtcNow();
        var azureUrls = await MedianAsync(() => azure.ReadUrlsAsync(Guid.NewGuid(), names, now, now.AddHours(1), CancellationToken.None));
        Report("Azure read SAS (service SAS) for 21,600 segments", azureUrls, $"{21_600 / azureUrls.TotalSeconds:F0} URLs/s");

        var s3 = S3CameraStorage.Create(new RegionStorageOptions
        {
            Kind = CredentialsResponse.S3,
            ServiceUrl = "https://127.0.0.1:1",
            Bucket = "bench",
            AccessKeyId = "BENCH",
            SecretAccessKey = "BENCH",
        }, null);
        var s3Urls = await MedianAsync(() => s3.ReadUrlsAsync(Guid.NewGuid(), names, now, now.AddHours(1), CancellationToken.None));
        Report("S3 presigned GET for 21,600 segments", s3Urls, $"{21_600 / s3Urls.TotalSeconds:F0} URLs/s");

        Console.WriteLine("  (starting the local stack for the key server under load)");
        await KeyServerBench.RunAsync();

        Console.WriteLine("  (starting the local stack and Chromium for the player's figures)");
        await PlaybackBench.RunAsync();

        Console.WriteLine("  (starting the local stack on PostgreSQL for index ingest)");
        await IndexIngestBench.RunAsync();

        Console.WriteLine("  (starting the local stack on PostgreSQL for cameras per machine)");
        await CamerasBench.RunAsync([]);
        return 0;
    }

    /// <summary>
    /// A day's playlist (build time and size) and the player's ± 15 minutes around a moment (size: the text hls.js parses
    /// on every open).
    /// </summary>
    static void Playlists()
    {
        var segments = DaySegments();
        var build = Median(() => HlsPlaylist.Build(segments, closed: true));
        var text = HlsPlaylist.Build(segments, closed: true);
        Report("HLS playlist, 24 h of 4-s segments (21,600), build", build, $"{text.Length / 1048576.0:F1} MiB of text, {Gzipped(text) / 1048576.0:F1} MiB gzipped");
        var window = segments.Skip(10_800 - 225).Take(450).ToList();
        var windowText = HlsPlaylist.Build(window, closed: true);
        var windowBuild = Median(() => HlsPlaylist.Build(window, closed: true));
        Report("HLS playlist, the player's ± 15 minutes (450), build", windowBuild, $"{windowText.Length / 1024.0:F0} KiB of text, {Gzipped(windowText) / 1024.0:F0} KiB gzipped");
    }

    /// <summary>The size on the wire with the functions host's response compression (gzip, fastest level).</summary>
    static long Gzipped(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }

        return buffer.Length;
    }

    static List<PlaylistSegment> DaySegments()
    {
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        // A data key an hour (900 segments), its wrapped form 277 bytes (370 characters of base64url), as before key tags were short.
        var keys = Enumerable.Range(0, 24).Select(k => new PlaylistKey($"https://keys.example/v1/keys/{k:D32}", RandomNumberGenerator.GetBytes(277))).ToList();
        return [.. Enumerable.Range(0, 21_600).Select(i => new PlaylistSegment(
            start.AddSeconds(4 * i), 4000,
            $"https://csfrankfurt.blob.core.windows.net/cam-0123456789abcdef0123456789abcdef/segments/{i:D12}.m4s?sv=2021-08-06&se=2026-11-01T01%3A00%3A00Z&sr=b&sp=r&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D",
            RandomNumberGenerator.GetBytes(16),
            SHA256.HashData(BitConverter.GetBytes(i)),
            keys[i / 900],
            $"https://csfrankfurt.blob.core.windows.net/cam-0123456789abcdef0123456789abcdef/init/{i / 900:D4}.mp4?sig=x",
            RandomNumberGenerator.GetBytes(16),
            SHA256.HashData(BitConverter.GetBytes(-1 - (i / 900)))))];
    }

    static TimeSpan Median(Action action) => MedianAsync(() => { action(); return Task.CompletedTask; }).GetAwaiter().GetResult();

    /// <summary>The median time of <paramref name="runs"/> runs of <paramref name="action"/> after a warm-up run.</summary>
    internal static async Task<TimeSpan> MedianAsync(Func<Task> action, int runs = Runs)
    {
        await action();
        var times = new List<TimeSpan>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await action();
            times.Add(watch.Elapsed);
        }

        times.Sort();
        return times[runs / 2];
    }

    internal static void Report(string what, TimeSpan median, string rate) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what,-55} {median.TotalMilliseconds,10:F2} ms   {rate}"));
}

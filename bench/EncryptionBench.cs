using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using CloudStore.Contracts.Envelope;

namespace CloudStore.Bench;

/// <summary>
/// Camera-side encryption of a 2 MiB segment (4 s at 4 Mbit/s) beside <c>openssl speed -evp aes-128-cbc</c> on one core,
/// measured in the same run: the one-shot form (the whole file in one buffer, the ciphertext in another), the streamed
/// form the camera uses (<see cref="SegmentCipher.EncryptAsync"/>), and the camera's whole step, file to file with the
/// ciphertext's SHA-256. Bytes allocated per segment beside each.
/// </summary>
public static class EncryptionBench
{
    const int Segment = 2 * 1024 * 1024;
    const int Runs = 31;

    public static async Task RunAsync()
    {
        var plaintext = RandomNumberGenerator.GetBytes(Segment);
        var key = SegmentCipher.NewKey();
        var iv = SegmentCipher.NewIv();
        var folder = Directory.CreateTempSubdirectory("cloudstore-bench-aes-").FullName;
        try
        {
            var source = Path.Combine(folder, "segment.m4s");
            await File.WriteAllBytesAsync(source, plaintext);
            var sink = new byte[Segment + 16];

            var openssl = await OpensslMegabytesAsync([Segment.ToString(CultureInfo.InvariantCulture)]);
            var opensslSmall = await OpensslMegabytesAsync(["16384"]);
            var oneShot = await MeasureAsync(() => { SegmentCipher.Encrypt(plaintext, key, iv); return Task.CompletedTask; });
            var streamed = await MeasureAsync(async () =>
            {
                using var input = new MemoryStream(plaintext, writable: false);
                using var output = new MemoryStream(sink);
                await SegmentCipher.EncryptAsync(input, output, key, iv, null, CancellationToken.None);
            });
            var camera = await MeasureAsync(async () =>
            {
                // The camera's step: its recorder's file in, the upload cache's file out, the index's SHA-256 on the way.
                using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, useAsync: false);
                await using var output = new FileStream(Path.Combine(folder, "cached.m4s"), FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: false);
                await SegmentCipher.EncryptAsync(input, output, key, iv, digest, CancellationToken.None);
                digest.GetHashAndReset();
            });

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  openssl speed -evp aes-128-cbc, one core, same run: {openssl:F0} MB/s in 2 MiB blocks, {opensslSmall:F0} MB/s in 16 KiB blocks"));
            Print("AES-128-CBC, 2 MiB, one-shot (whole-file buffers)", oneShot, openssl);
            Print($"AES-128-CBC, 2 MiB, streamed ({SegmentCipher.ChunkSize / 1024} KiB chunks, pooled)", streamed, openssl);
            Print("camera step: file to file, streamed, + SHA-256", camera, openssl);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    static void Print(string what, (TimeSpan Median, long Allocated) run, double openssl)
    {
        var rate = Segment / run.Median.TotalSeconds / 1e6;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {what,-55} {run.Median.TotalMilliseconds,8:F2} ms {rate,7:F0} MB/s  {rate / openssl,5:F2}× openssl   {run.Allocated / 1024.0,8:F1} KiB allocated"));
    }

    /// <summary>The bytes one run allocates (after a warm-up run), and the median time of <see cref="Runs"/> runs.</summary>
    static async Task<(TimeSpan Median, long Allocated)> MeasureAsync(Func<Task> action)
    {
        await action();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        await action();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        return (await Bench.MedianAsync(action, Runs), allocated);
    }

    /// <summary>openssl's AES-128-CBC encryption on one core, in MB/s (10^6 bytes), from its machine-readable line <c>+F:n:AES-128-CBC:bytes/s</c>.</summary>
    static async Task<double> OpensslMegabytesAsync(string[] blockSizes)
    {
        var start = new ProcessStartInfo("openssl", ["speed", "-seconds", "2", "-mr", "-bytes", .. blockSizes, "-evp", "aes-128-cbc"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start.");
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        await errors;
        var line = output.Split('\n').Last(l => l.StartsWith("+F:", StringComparison.Ordinal)).Split(':');
        return double.Parse(line[3], CultureInfo.InvariantCulture) / 1e6;
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Upload;

/// <summary>
/// cloudstore-camera as a first-time integrator meets it, run as a process: help for each command, and a
/// wrong argument, an unusable source or cache, or an unreachable service answered with one clear line,
/// an exit code (2 for usage, 1 for the service) and no stack trace.
/// </summary>
public sealed class CameraCliTests : IDisposable
{
    const string Api = "https://127.0.0.1:7071/api";
    readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-cli-").FullName;

    public static TheoryData<string, string[]> Commands => new()
    {
        { "", ["enrol", "whoami", "run", "Exit codes"] },
        { "enrol", ["--api", "--key", "--ca", "--firmware", "--code", "--serial"] },
        { "whoami", ["--api", "--key", "--ca", "--firmware"] },
        { "run", ["--api", "--key", "--ca", "--firmware", "--camera", "--source", "file:PATH", "folder:PLAYLIST", "--cache", "--cache-mb", "--bandwidth-kbit", "--segment-seconds"] },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_EachCommand_DescribesItselfAndEveryOption(string command, string[] mentions)
    {
        var (exitCode, output) = await Cli.RunCameraAsync(command.Length == 0 ? ["--help"] : [command, "--help"]);

        Assert.Equal(0, exitCode);
        Assert.Contains("Description:", output, StringComparison.Ordinal);
        Assert.All(mentions, m => Assert.Contains(m, output, StringComparison.Ordinal));
        Assert.DoesNotContain("Program.cs", output, StringComparison.Ordinal);
    }

    public static TheoryData<string, string[], string> WrongArguments => new()
    {
        { "no command", [], "Required command was not provided." },
        { "unknown command", ["record"], "Unrecognized command or argument 'record'" },
        { "api missing", ["whoami"], "Option '--api' is required." },
        { "api not a URL", ["whoami", "--api", "localhost:7071"], "--api localhost:7071: not an absolute http(s) URL" },
        { "enrol without code", ["enrol", "--api", Api, "--serial", "ACCC8E000001"], "Option '--code' is required." },
        { "camera not a GUID", ["run", "--api", Api, "--camera", "gate"], "--camera gate: not a camera id" },
        { "camera missing", ["run", "--api", Api], "Option '--camera' is required." },
        { "cache size not a number", ["run", "--api", Api, "--camera", Guid.Empty.ToString(), "--cache-mb", "lots"], "--cache-mb lots: must be a whole number from 1" },
        { "segment length out of range", ["run", "--api", Api, "--camera", Guid.Empty.ToString(), "--segment-seconds", "0"], "--segment-seconds 0: must be a whole number from 1 to 60" },
        { "unknown source", ["run", "--api", Api, "--camera", Guid.Empty.ToString(), "--source", "rtsp://camera"], "--source rtsp://camera: not a source; use generated, file:PATH or folder:PLAYLIST" },
        { "firmware not a version", ["whoami", "--api", Api, "--firmware", "latest"], "--firmware latest: not a version such as 11.11.73" },
    };

    [Theory]
    [MemberData(nameof(WrongArguments))]
    public async Task WrongArgument_ExitCode2_SaysWhatIsWrong_NoStackTrace(string what, string[] arguments, string message)
    {
        var (exitCode, output) = await Cli.RunCameraAsync(arguments);

        Assert.True(exitCode == 2, $"{what}: exit code {exitCode}\n{output}");
        Assert.Contains(message, output, StringComparison.Ordinal);
        AssertNoStackTrace(output);
    }

    [Fact]
    public async Task UnusableSources_ExitCode2_EachSaysWhy_NoStackTrace()
    {
        var key = Enrolled();
        var empty = Directory.CreateDirectory(Path.Combine(_folder, "empty")).FullName;
        var broken = Directory.CreateDirectory(Path.Combine(_folder, "broken")).FullName;
        await File.WriteAllTextAsync(Path.Combine(broken, "out.m3u8"), """
            #EXTM3U
            #EXT-X-MAP:URI="init.mp4"
            #EXTINF:2.000000,
            #EXT-X-PROGRAM-DATE-TIME:2026-11-22T02:46:40.497+0000
            seg_000000.m4s
            """);
        var notVideo = Path.Combine(_folder, "notes.mp4");
        await File.WriteAllTextAsync(notVideo, "not a video");
        var cacheIsAFile = Path.Combine(_folder, "cache-file");
        await File.WriteAllTextAsync(cacheIsAFile, "");
        string[] run = ["run", "--api", Api, "--key", key, "--camera", Guid.NewGuid().ToString(), "--cache", Path.Combine(_folder, "cache")];

        var cases = new (string[] Arguments, string Message)[]
        {
            ([.. run, "--source", "folder:" + Path.Combine(_folder, "nowhere")], "no such playlist or folder"),
            ([.. run, "--source", "folder:" + empty], "the folder holds 0 playlists"),
            ([.. run, "--source", "folder:" + broken], Path.Combine(broken, "init.mp4") + ", named in the playlist, is missing"),
            ([.. run, "--source", "file:" + Path.Combine(_folder, "missing.mp4")], "no such file"),
            ([.. run, "--source", "file:" + notVideo], "not a video ffprobe can read"),
            ([.. run[..^1], cacheIsAFile, "--source", "generated"], $"--cache {cacheIsAFile}: cannot be used as the stream cache folder"),
            (["run", "--api", Api, "--key", Path.Combine(_folder, "never-enrolled.pem"), "--camera", Guid.NewGuid().ToString()], "enrol first"),
        };

        foreach (var (arguments, message) in cases)
        {
            var (exitCode, output) = await Cli.RunCameraAsync(arguments);
            Assert.True(exitCode == 2, $"{string.Join(' ', arguments)}: exit code {exitCode}\n{output}");
            Assert.Contains(message, output, StringComparison.Ordinal);
            AssertNoStackTrace(output);
        }

        Assert.False(File.Exists(Path.Combine(_folder, "never-enrolled.pem")), "a key was made for a device that never enrolled");
    }

    [Fact]
    public async Task UnreachableService_ExitCode1_NamesTheUrl_NoStackTrace()
    {
        var closed = ClosedPort();
        var api = $"https://127.0.0.1:{closed}/api";
        var key = Enrolled();

        var enrol = await Cli.RunCameraAsync(["enrol", "--api", api, "--key", Path.Combine(_folder, "new.pem"), "--code", "ABCD-EFGH", "--serial", "ACCC8E000001"]);
        var whoami = await Cli.RunCameraAsync(["whoami", "--api", api, "--key", key]);

        foreach (var (exitCode, output) in new[] { enrol, whoami })
        {
            Assert.True(exitCode == 1, $"exit code {exitCode}\n{output}");
            Assert.Contains($"Could not reach {api}/", output, StringComparison.Ordinal);
            AssertNoStackTrace(output);
        }
    }

    /// <summary>A key and identity as enrol leaves them (the identity points nowhere real).</summary>
    string Enrolled()
    {
        var key = Path.Combine(_folder, "device-key.pem");
        using (CloudStore.Device.DeviceKey.LoadOrCreate(key))
        {
        }

        File.WriteAllText(key + ".device.json", JsonSerializer.Serialize(new EnrolDeviceResponse(Guid.NewGuid(), Guid.NewGuid(), "https://127.0.0.1/api/token", "https://127.0.0.1/api/token")));
        return key;
    }

    static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    static void AssertNoStackTrace(string output) =>
        Assert.DoesNotContain(output.Split('\n'), line => line.StartsWith("   at ", StringComparison.Ordinal));

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

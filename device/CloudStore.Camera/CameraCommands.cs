using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.Device.Media;
using CloudStore.Device.Upload;
using Microsoft.Extensions.Logging;

namespace CloudStore.Camera;

/// <summary>The commands, their options and what each does: <c>enrol</c>, <c>whoami</c> and <c>run</c>.</summary>
static partial class CameraCommands
{
    public static RootCommand Root()
    {
        var root = new RootCommand(Paragraph("""
            cloudstore-camera: the CloudStore reference camera. Enrol the device once with the code an
            administrator made for it (POST /api/devices), then run its cameras: video is cut into H.264 fMP4
            segments, encrypted, uploaded into each camera's own storage and indexed.
            Exit codes: 0 done, 1 refused by the service, unreachable or a failed video source, 2 a wrong argument.
            """));
        root.Subcommands.Add(Enrol());
        root.Subcommands.Add(WhoAmI());
        root.Subcommands.Add(Run());
        return root;
    }

    static Command Enrol()
    {
        var connection = new Connection();
        var code = new Option<string>("--code")
        {
            Description = "The one-time enrolment code an administrator received when creating the device (POST /api/devices).",
            HelpName = "CODE",
            Required = true,
        };
        var serial = new Option<string>("--serial")
        {
            Description = "The device's serial number, exactly as the administrator entered it.",
            HelpName = "SERIAL",
            Required = true,
        };
        var command = new Command("enrol", Paragraph("""
            Makes the device's key (if --key does not exist yet), registers its public half with the enrolment
            code, keeps the device's identity beside the key (KEY.device.json) and signs in once, which reports
            the firmware so an administrator can enable the device's cameras at once.
            """));
        connection.AddTo(command);
        command.Options.Add(code);
        command.Options.Add(serial);
        command.SetAction((parse, stopping) => Guarded(parse, connection, async () =>
        {
            using var device = DeviceSession.Open(parse, connection, enrolled: false);
            var enrolled = await device.Client.EnrolAsync(parse.GetRequiredValue(code), parse.GetRequiredValue(serial), stopping);
            await File.WriteAllTextAsync(device.IdentityFile, JsonSerializer.Serialize(enrolled), stopping);
            Console.WriteLine($"Enrolled as device {enrolled.DeviceId} of organisation {enrolled.OrganizationId}.");

            // Sign in once: the token request reports the firmware, which enabling a camera checks.
            await device.Client.AccessTokenAsync(enrolled.DeviceId, enrolled.AssertionAudience, stopping);
            Console.WriteLine($"Reported firmware {parse.GetRequiredValue(connection.Firmware)}.");
            return ExitCodes.Success;
        }, stopping));
        return command;
    }

    static Command WhoAmI()
    {
        var connection = new Connection();
        var command = new Command("whoami", Paragraph("""
            Signs in with the enrolled device's key and prints what the service knows of the device
            (GET /api/devices/self): its id, serial, organisation and cameras.
            """));
        connection.AddTo(command);
        command.SetAction((parse, stopping) => Guarded(parse, connection, async () =>
        {
            using var device = DeviceSession.Open(parse, connection, enrolled: true);
            var identity = device.Identity!;
            var token = await device.Client.AccessTokenAsync(identity.DeviceId, identity.AssertionAudience, stopping);
            using var request = new HttpRequestMessage(HttpMethod.Get, "devices/self");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await device.Http.SendAsync(request, stopping);
            Console.WriteLine(await response.Content.ReadAsStringAsync(stopping));
            return response.IsSuccessStatusCode ? ExitCodes.Success : ExitCodes.Failed;
        }, stopping));
        return command;
    }

    static Command Run()
    {
        var connection = new Connection();
        var cameras = new Option<Guid[]>("--camera")
        {
            Description = "A camera of this device to upload as (its id from POST /api/devices/{id}/cameras); repeat the option to run several cameras in one process, each with the same source.",
            HelpName = "ID",
            Required = true,
            CustomParser = CameraIds,
        };
        var source = new Option<VideoSource?>("--source")
        {
            Description = Paragraph("""
                Where the video comes from. 'generated': ffmpeg's test pattern with the UTC clock burnt in, in real time,
                until Ctrl-C. 'file:PATH': a video file, uploaded at its own frame rate with its audio (AAC); H.264 whose
                key frames fall on segment boundaries is copied as it is, anything else re-encoded. 'folder:PLAYLIST'
                (or folder:DIR holding one .m3u8): fMP4 HLS segments ffmpeg already cut with
                -hls_segment_type fmp4 -hls_flags program_date_time, uploaded as they are and left in place. Default: generated.
                """),
            HelpName = "generated|file:PATH|folder:PLAYLIST",
            CustomParser = SourceArgument.Parse,
        };
        var cache = new Option<string>("--cache")
        {
            Description = "The stream cache folder: encrypted segments wait here (one subfolder per camera) while storage is unreachable, and survive a restart.",
            HelpName = "DIR",
            DefaultValueFactory = _ => "camera-cache",
        };
        var cacheMegabytes = new Option<long>("--cache-mb")
        {
            Description = "Room in the stream cache per camera, in MiB; when it is full the oldest segments not yet uploaded are dropped (and logged).",
            HelpName = "MIB",
            DefaultValueFactory = _ => 512,
            CustomParser = result => Number(result, 1, 1024 * 1024),
        };
        var bandwidth = new Option<long?>("--bandwidth-kbit")
        {
            Description = "Upload bandwidth limit per camera in kbit/s (default: none).",
            HelpName = "KBIT",
            CustomParser = result => Number(result, 1, 10_000_000),
        };
        var segmentSeconds = new Option<int>("--segment-seconds")
        {
            Description = "Segment length in seconds, 1 to 60: one key frame starts each segment (ignored for a folder source, which is already cut).",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 4,
            CustomParser = result => (int)Number(result, 1, 60),
        };
        var command = new Command("run", Paragraph("""
            Uploads video as the given cameras until the source ends (file:, folder:) or Ctrl-C (generated). Each camera's
            counters go to stdout every two seconds; retries, recoveries and dropped segments are logged to stderr.
            While the service or storage is unreachable the camera keeps recording into its stream cache and retries.
            """));
        connection.AddTo(command);
        command.Options.Add(cameras);
        command.Options.Add(source);
        command.Options.Add(cache);
        command.Options.Add(cacheMegabytes);
        command.Options.Add(bandwidth);
        command.Options.Add(segmentSeconds);
        command.SetAction((parse, stopping) => Guarded(parse, connection, async () =>
        {
            using var device = DeviceSession.Open(parse, connection, enrolled: true);
            var identity = device.Identity!;
            var video = parse.GetValue(source) ?? new VideoSource.Generated();
            if (video is VideoSource.File file)
            {
                // Probed before anything is sent, so a file ffmpeg cannot read is a usage error, not a failed upload.
                await SourceArgument.CheckAsync(file, stopping);
            }

            var cacheFolder = CacheFolder(parse.GetRequiredValue(cache));
            var kbit = parse.GetValue(bandwidth);
            var ids = parse.GetRequiredValue(cameras);
            var options = ids.Select(id => new UploaderOptions
            {
                CameraId = id,
                CacheFolder = Path.Combine(cacheFolder, id.ToString()),
                CacheCapacityBytes = parse.GetRequiredValue(cacheMegabytes) * 1024 * 1024,
                BandwidthBytesPerSecond = kbit * 1000 / 8,
                SegmentLength = TimeSpan.FromSeconds(parse.GetRequiredValue(segmentSeconds)),
                DeleteSourceFiles = video is not VideoSource.Folder,
            }).ToList();
            return await UploadAsync(device, identity, video, options, stopping);
        }, stopping));
        return command;
    }

    static async Task<int> UploadAsync(DeviceSession device, DeviceIdentity identity, VideoSource video, List<UploaderOptions> options, CancellationToken stopping)
    {
        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        }).AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
        var log = loggers.CreateLogger<CameraUploader>();
        var uploaders = options.Select(o => new CameraUploader(device.Client, identity, o, device.Handler, TimeProvider.System, log)).ToList();
        try
        {
            var all = Task.WhenAll(uploaders.Select(u => u.RunAsync(video, stopping)));
            var interval = TimeSpan.FromSeconds(2);
            var sent = new long[uploaders.Count];
            while (await Task.WhenAny(all, Task.Delay(interval, stopping)) != all)
            {
                for (var i = 0; i < uploaders.Count; i++)
                {
                    var bytes = uploaders[i].Stats.BytesUploaded;
                    var megabits = (bytes - sent[i]) * 8 / interval.TotalSeconds / 1e6;
                    sent[i] = bytes;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"camera {options[i].CameraId.ToString()[..8]}: {uploaders[i].Stats}, {megabits:F2} Mbit/s"));
                }
            }

            await all;
            return ExitCodes.Success;
        }
        finally
        {
            uploaders.ForEach(u => u.Dispose());
        }
    }

    /// <summary>One paragraph from an indented raw string: the help output wraps it to the terminal's width.</summary>
    static string Paragraph(string text) => text.ReplaceLineEndings(" ");

    /// <summary>Runs a command's action, turning what a user can cause into one line on stderr and an exit code.</summary>
    static async Task<int> Guarded(ParseResult parse, Connection connection, Func<Task<int>> action, CancellationToken stopping)
    {
        try
        {
            return await action();
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return ExitCodes.Usage;
        }
        catch (VideoSourceException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return ExitCodes.Failed;
        }
        catch (DeviceRequestRefusedException e)
        {
            await Console.Error.WriteLineAsync($"Refused ({e.Status}): {e.Message}");
            return ExitCodes.Failed;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"Could not reach {parse.GetRequiredValue(connection.Api)}: {e.Message}{(e is { HttpRequestError: HttpRequestError.SecureConnectionError, InnerException: { } tls } ? " " + tls.Message : "")}");
            return ExitCodes.Failed;
        }
        catch (TaskCanceledException) when (!stopping.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"Could not reach {parse.GetRequiredValue(connection.Api)}: no answer in {DeviceSession.RequestTimeout.TotalSeconds:F0} s.");
            return ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return ExitCodes.Success; // Ctrl-C: what is in the stream cache is sent on the next run.
        }
    }

    /// <summary>The folder is made now, so a path that cannot hold the cache is a usage error before anything starts.</summary>
    static string CacheFolder(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
            var probe = Path.Combine(path, ".write-test");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--cache {path}: cannot be used as the stream cache folder: {e.Message}");
        }
    }

    static Guid[] CameraIds(ArgumentResult result)
    {
        var ids = new List<Guid>();
        foreach (var token in result.Tokens)
        {
            if (!Guid.TryParse(token.Value, out var id))
            {
                result.AddError($"--camera {token.Value}: not a camera id (a GUID, as POST /api/devices/{{id}}/cameras answered).");
            }
            else if (ids.Contains(id))
            {
                result.AddError($"--camera {token.Value}: given twice.");
            }
            else
            {
                ids.Add(id);
            }
        }

        return [.. ids];
    }

    /// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/>, or an error that says so.</summary>
    static long Number(ArgumentResult result, long minimum, long maximum)
    {
        var text = result.Tokens.Single().Value;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum && value <= maximum)
        {
            return value;
        }

        result.AddError($"{((OptionResult)result.Parent!).Option.Name} {text}: must be a whole number from {minimum} to {maximum}.");
        return minimum;
    }

    /// <summary>The options every command has: where the service is and which key the device signs with.</summary>
    internal sealed partial class Connection
    {
        public Option<Uri> Api { get; } = new("--api")
        {
            Description = "The CloudStore API base URL, e.g. https://127.0.0.1:7071/api for the local stack.",
            HelpName = "URL",
            Required = true,
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
                {
                    return uri;
                }

                result.AddError($"--api {text}: not an absolute http(s) URL such as https://127.0.0.1:7071/api.");
                return null;
            },
        };

        public Option<string> Key { get; } = new("--key")
        {
            Description = "The device's private key (PEM, made with mode 0600 by enrol when missing); the device's identity is kept beside it in KEY.device.json.",
            HelpName = "KEY",
            DefaultValueFactory = _ => "device-key.pem",
        };

        public Option<string?> Ca { get; } = new("--ca")
        {
            Description = "A CA certificate (PEM) to trust instead of the system's, e.g. .local/tls/ca.pem for the local stack.",
            HelpName = "FILE",
            CustomParser = result =>
            {
                var path = result.Tokens.Single().Value;
                try
                {
                    using var certificate = X509Certificate2.CreateFromPem(File.ReadAllText(path));
                    return path;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
                {
                    result.AddError($"--ca {path}: not a readable PEM certificate ({e.Message}).");
                    return null;
                }
            },
        };

        public Option<string> Firmware { get; } = new("--firmware")
        {
            Description = "The firmware version reported in each signed sign-in assertion; enabling a camera needs 11.11.73 or later.",
            HelpName = "VERSION",
            DefaultValueFactory = _ => DeviceClientOptions.DefaultFirmwareVersion,
        };

        public Connection() => Firmware.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } version && !FirmwarePattern().IsMatch(version))
            {
                result.AddError($"--firmware {version}: not a version such as 11.11.73.");
            }
        });

        public void AddTo(Command command)
        {
            command.Options.Add(Api);
            command.Options.Add(Key);
            command.Options.Add(Ca);
            command.Options.Add(Firmware);
        }

        [GeneratedRegex(@"^[0-9]{1,5}(\.[0-9]{1,5}){1,3}\z")]
        private static partial Regex FirmwarePattern();
    }

    /// <summary>The device's key, HTTP stack and client for one command.</summary>
    sealed class DeviceSession : IDisposable
    {
        public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(100);
        readonly DeviceKey _key;

        DeviceSession(string identityFile, DeviceIdentity? identity, DeviceKey key, SocketsHttpHandler handler, Uri api, string firmware)
        {
            IdentityFile = identityFile;
            Identity = identity;
            _key = key;
            Handler = handler;
            Http = new HttpClient(handler, disposeHandler: false) { BaseAddress = api, Timeout = RequestTimeout };
            Client = new DeviceClient(Http, key, TimeProvider.System, new DeviceClientOptions { FirmwareVersion = firmware });
        }

        public string IdentityFile { get; }

        /// <summary>The identity enrol saved; null when opened for enrolment.</summary>
        public DeviceIdentity? Identity { get; }

        public SocketsHttpHandler Handler { get; }

        public HttpClient Http { get; }

        public DeviceClient Client { get; }

        /// <param name="enrolled">Whether the device must have enrolled already (checked before the key is touched).</param>
        public static DeviceSession Open(ParseResult parse, Connection connection, bool enrolled)
        {
            var keyFile = parse.GetRequiredValue(connection.Key);
            var identityFile = keyFile + ".device.json";
            var identity = enrolled ? ReadIdentity(identityFile) : null;
            DeviceKey key;
            try
            {
                key = DeviceKey.LoadOrCreate(keyFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
            {
                throw new UsageException($"--key {keyFile}: cannot be used as the device's key: {e.Message}");
            }

            return new DeviceSession(identityFile, identity, key, TrustedHttp.CreateHandler(parse.GetValue(connection.Ca)), parse.GetRequiredValue(connection.Api), parse.GetRequiredValue(connection.Firmware));
        }

        /// <exception cref="UsageException">Not enrolled yet, or the file is not what enrol wrote.</exception>
        static DeviceIdentity ReadIdentity(string identityFile)
        {
            try
            {
                return DeviceIdentity.From(JsonSerializer.Deserialize<EnrolDeviceResponse>(File.ReadAllText(identityFile))
                    ?? throw new JsonException("The file holds null."));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new UsageException($"No device identity in {identityFile}: enrol first (cloudstore-camera enrol --code CODE --serial SERIAL, with the same --key).");
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"{identityFile} cannot be read as the device's identity ({e.Message}): enrol again.");
            }
        }

        public void Dispose()
        {
            Client.Dispose();
            Http.Dispose();
            Handler.Dispose();
            _key.Dispose();
        }
    }
}

/// <summary>A command-line input that cannot be used, found after parsing (a file's content, a folder's permissions).</summary>
sealed class UsageException(string message) : Exception(message);

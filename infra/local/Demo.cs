using CloudStore.Device;
using CloudStore.Device.Media;
using CloudStore.Device.Upload;
using QRCoder;
using CloudStore.Contracts;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace CloudStore.LocalStack;

/// <summary>The demo organisation, its administrator (with the authenticator secret) and cameras, made on the first run and kept in the state folder.</summary>
public sealed record DemoAccount(Guid OrganizationId, string AdministratorEmail, string AdministratorPassword, string AuthenticatorKey, string OtpAuthUri, IReadOnlyList<Guid> CameraIds);

/// <summary><c>./cloudstore demo</c>: the whole stack with a demo organisation, until Ctrl-C.</summary>
public static class Demo
{
    public const string ReadyLine = "CloudStore is running.";
    const string AdministratorEmail = "admin@demo.cloudstore.test";

    /// <param name="loggers">Where the simulated cameras log (retries, drops) and the demo reports failures.</param>
    public static async Task<int> RunAsync(LocalCloudOptions options, ILoggerFactory loggers, CancellationToken stopping)
    {
        var log = loggers.CreateLogger("CloudStore.LocalStack.Demo");
        Console.WriteLine($"Starting the local stack (state in {options.StateFolder}) ...");
        await using var stack = await LocalCloud.StartAsync(options, stopping);
        var cameraFolder = Path.Combine(options.StateFolder, "demo-camera");
        using var deviceKey = DeviceKey.LoadOrCreate(Path.Combine(cameraFolder, "device-key.pem"));
        using var deviceHttp = new HttpClient(TrustedHttp.CreateHandler(stack.Certificates.CaCertificate)) { BaseAddress = new Uri(stack.FunctionsUrl, "/api/") };
        var device = new DeviceClient(deviceHttp, deviceKey, TimeProvider.System);
        var account = await EnsureDemoAccountAsync(stack, device, Path.Combine(cameraFolder, "device.json"), stopping);
        var identity = JsonSerializer.Deserialize<DeviceIdentity>(await File.ReadAllTextAsync(Path.Combine(cameraFolder, "device.json"), stopping))!;
        using var storageHandler = TrustedHttp.CreateHandler(stack.Certificates.CaCertificate);
        var uploaders = account.CameraIds.Select(id => new CameraUploader(device, identity, new UploaderOptions
        {
            CameraId = id,
            CacheFolder = Path.Combine(cameraFolder, "cache", id.ToString("N")),
            DeleteSourceFiles = true,
        }, storageHandler, TimeProvider.System, loggers.CreateLogger<CameraUploader>())).ToList();
        var uploads = uploaders.Select(u => RunCameraAsync(u, log, stopping)).ToList();

        Console.WriteLine($$"""

            {{ReadyLine}}
              Player        {{stack.PlayerUrl}}
              Functions API {{stack.FunctionsUrl}}api   (OpenAPI: {{stack.FunctionsUrl}}api/openapi/v1.json)
              Key server    {{stack.KeyServerUrl}}
              Azurite blobs https://127.0.0.1:{{stack.Azurite.Port}}/  (one account per region: {{string.Join(", ", stack.Azurite.Accounts.Select(a => a.Name))}})
              Mail inbox    {{stack.Mail.WebUrl}}  (maildev: every invitation and password-reset mail lands here; SMTP 127.0.0.1:{{stack.Mail.SmtpPort}})
              Local CA      {{stack.Certificates.CaCertificate}}  (trust it in your client, e.g. curl --cacert)

            Demo organisation {{account.OrganizationId}} (recordings in {{DemoSetup.Region}})
              administrator {{account.AdministratorEmail}}
              password      {{account.AdministratorPassword}}
              authenticator {{account.OtpAuthUri}}
            {{Qr(account.OtpAuthUri)}}
              Add the authenticator to your phone (scan the code above), or compute codes from its secret.
              Two cameras ({{string.Join(", ", account.CameraIds)}}) upload generated video with a UTC clock,
              in 4-second encrypted segments, to {{DemoSetup.Region}}.

            Watch: open {{stack.PlayerUrl}} in a browser (its certificate comes from the local CA above: trust
            that CA or accept the warning), sign in with the email, password and a code from the authenticator,
            and pick a camera. It plays the last minute, decrypted in the browser; the timeline under the video
            shows what was recorded.

            Invite people with POST /api/users {"email":…,"role":"operator"}: the invitation mail, with its one-time
            link to choose a password, is in the mail inbox above; nothing is sent beyond this machine.

            Logs in {{Path.Combine(options.StateFolder, "logs")}}. Press Ctrl-C to stop.
            """);

        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(30), stopping);
                Console.WriteLine(string.Join("  |  ", uploaders.Select((u, i) => $"camera {i + 1}: {u.Stats}")));
            }
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Stopping ...");
        }

        await Task.WhenAll(uploads);
        uploaders.ForEach(u => u.Dispose());
        return 0;
    }

    /// <summary>One simulated camera until the demo stops; a failure is reported, not fatal to the demo.</summary>
    static async Task RunCameraAsync(CameraUploader uploader, ILogger log, CancellationToken stopping)
    {
        try
        {
            await uploader.RunAsync(new VideoSource.Generated(), stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            DemoLog.CameraStopped(log, e.GetType().Name, e.Message);
        }
    }

    static string Qr(string text)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.L);
        return new AsciiQRCode(data).GetGraphicSmall();
    }

    /// <summary>The demo organisation (administrator with an authenticator, device, two cameras), made on the first run and kept in the state folder.</summary>
    public static async Task<DemoAccount> EnsureDemoAccountAsync(LocalCloud stack, DeviceClient device, string identityFile, CancellationToken cancellationToken)
    {
        var file = Path.Combine(stack.Options.StateFolder, "demo-account.json");
        if (File.Exists(file) && File.Exists(identityFile) && JsonSerializer.Deserialize<DemoAccount>(await File.ReadAllTextAsync(file, cancellationToken)) is { } existing)
        {
            return existing;
        }

        // A random passphrase, never a fixed demo password: the demo listens on loopback only, but habits travel.
        var password = "demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        var passwordFile = Path.Combine(stack.Options.StateFolder, "functions", "provision-password.tmp");
        PrivateFile.Write(passwordFile, password);
        try
        {
            var output = await RunFunctionsCommandAsync(stack, ["provision", "--name", "Demo Organisation", "--admin-email", AdministratorEmail, "--admin-password-file", passwordFile], cancellationToken);
            using var ids = JsonDocument.Parse(output);
            await RunFunctionsCommandAsync(stack, ["licences", "--organization", ids.RootElement.GetProperty("organizationId").GetString()!, "--count", "4"], cancellationToken);
            using var administrator = new HttpClient(TrustedHttp.CreateHandler(stack.Certificates.CaCertificate)) { BaseAddress = stack.FunctionsUrl };
            var (authenticatorKey, otpAuthUri) = await DemoSetup.EnrolAdministratorAsync(administrator, AdministratorEmail, password, cancellationToken);
            var cameras = await DemoSetup.AddCamerasAsync(administrator, device, identityFile, cancellationToken);
            var account = new DemoAccount(ids.RootElement.GetProperty("organizationId").GetGuid(), AdministratorEmail, password, authenticatorKey, otpAuthUri, cameras);
            PrivateFile.Write(file, JsonSerializer.Serialize(account));
            return account;
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>Runs an operations command of the functions app against the stack's directory.</summary>
    public static async Task<string> RunFunctionsCommandAsync(LocalCloud stack, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryLayout.Root,
        };
        start.ArgumentList.Add(RepositoryLayout.HostAssembly("functions/CloudStore.Functions.Local", "CloudStore.Functions.Local"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in stack.CommonSettings(new Uri("https://127.0.0.1:1/")).Concat(stack.FunctionsSettings()))
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"functions {string.Join(' ', start.ArgumentList.Skip(1).Take(1))} failed ({process.ExitCode}): {await error}");
        }

        return await output;
    }
}

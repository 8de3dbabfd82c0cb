using System.Globalization;
using System.Runtime.InteropServices;

namespace CloudStore.LocalStack;

/// <summary>
/// <c>./cloudstore demo</c> lands here. Ports and the state folder can be moved with environment
/// variables, so a test can run the demo beside another stack.
/// </summary>
public static class Entry
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["package", var output])
        {
            var manifest = await Packaging.RunAsync(Path.GetFullPath(output), TimeProvider.System, CancellationToken.None);
            foreach (var artefact in manifest.Artefacts)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {artefact.File,-16} {artefact.Bytes / 1048576.0,6:0.0} MiB  {artefact.Target}"));
            }

            Console.WriteLine($"Artefacts and manifest.json in {Path.GetFullPath(output)}");
            return 0;
        }

        if (args is not ["demo"])
        {
            await Console.Error.WriteLineAsync("usage: CloudStore.LocalStack demo | package OUTPUT-FOLDER");
            return 2;
        }

        using var stopping = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var loggers = DemoLog.CreateFactory();
        var log = loggers.CreateLogger("CloudStore.LocalStack.Demo");
        var options = new LocalCloudOptions(
            StateFolder: Environment.GetEnvironmentVariable("CLOUDSTORE_STATE") ?? RepositoryLayout.LocalState,
            PersistentStorage: true,
            FunctionsPort: Port("CLOUDSTORE_FUNCTIONS_PORT", 7071),
            KeyServerPort: Port("CLOUDSTORE_KEYSERVER_PORT", 7072),
            PlayerPort: Port("CLOUDSTORE_PLAYER_PORT", 5443),
            AzuritePort: Port("CLOUDSTORE_AZURITE_PORT", 10000),
            SmtpPort: Port("CLOUDSTORE_SMTP_PORT", 7025),
            MailWebPort: Port("CLOUDSTORE_MAIL_PORT", 7080));
        try
        {
            return await Demo.RunAsync(options, loggers, stopping.Token);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e)
        {
            DemoLog.CouldNotStart(log, e.Message, options.StateFolder);
            return 1;
        }
    }

    static int Port(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.None, CultureInfo.InvariantCulture, out var port) ? port : fallback;
}

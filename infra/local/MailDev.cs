using System.Globalization;

namespace CloudStore.LocalStack;

/// <summary>
/// A real local SMTP server with a web inbox (npm <c>maildev</c>): the functions send invitations and password-reset
/// links to it, and people (or tests, through its REST API under <c>/api/email</c>) read them there. Nothing is
/// relayed onwards. With certificates it speaks SMTP over TLS from the first byte and serves the inbox over HTTPS,
/// both with the local CA's certificate; without, plain SMTP and HTTP on loopback (the in-process tests' relay).
/// </summary>
public sealed class MailDev : IAsyncDisposable
{
    /// <summary>The sender address of the local stack's mail.</summary>
    public const string FromAddress = "no-reply@cloudstore.test";

    readonly ChildProcess _process;

    MailDev(ChildProcess process, int smtpPort, Uri webUrl, bool secure)
    {
        _process = process;
        SmtpPort = smtpPort;
        WebUrl = webUrl;
        Secure = secure;
    }

    public int SmtpPort { get; }

    /// <summary>The web inbox; its REST API is under <c>api/</c>.</summary>
    public Uri WebUrl { get; }

    /// <summary>Whether SMTP runs over TLS (and the inbox over HTTPS).</summary>
    public bool Secure { get; }

    /// <summary>The functions host's <c>Mail</c> settings that send to this server (as environment variables).</summary>
    public IReadOnlyDictionary<string, string> FunctionsSettings => new Dictionary<string, string>
    {
        ["Mail__SmtpHost"] = "127.0.0.1",
        ["Mail__SmtpPort"] = SmtpPort.ToString(CultureInfo.InvariantCulture),
        ["Mail__Security"] = Secure ? "SslOnConnect" : "None",
        ["Mail__FromAddress"] = FromAddress,
    };

    /// <param name="certificates">The local CA's server certificate for SMTP over TLS and an HTTPS inbox; null for plain loopback.</param>
    /// <param name="mailFolder">Where received mail is kept (maildev's default is a shared folder in /tmp).</param>
    public static async Task<MailDev> StartAsync(
        CertificateFiles? certificates, string mailFolder, string logFile, CancellationToken cancellationToken, int smtpPort = 0, int webPort = 0)
    {
        var script = Path.Combine(RepositoryLayout.NodeModules, "maildev", "dist", "bin", "maildev.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"maildev is not installed ({script} is missing). Run `./cloudstore test` or `./cloudstore demo`, which run `npm ci` in infra/local.");
        }

        smtpPort = smtpPort == 0 ? ChildProcess.FreePort() : smtpPort;
        webPort = webPort == 0 ? ChildProcess.FreePort() : webPort;
        Directory.CreateDirectory(mailFolder);
        var arguments = new List<string>
        {
            script,
            "--ip", "127.0.0.1",
            "--smtp", smtpPort.ToString(CultureInfo.InvariantCulture),
            "--web-ip", "127.0.0.1",
            "--web", webPort.ToString(CultureInfo.InvariantCulture),
            "--mail-directory", mailFolder,
        };
        if (certificates is not null)
        {
            arguments.AddRange(["--incoming-secure", "--incoming-cert", certificates.ServerCertificate, "--incoming-key", certificates.ServerKey]);
            arguments.AddRange(["--https", "--https-cert", certificates.ServerCertificate, "--https-key", certificates.ServerKey]);
        }

        var webUrl = new Uri(string.Create(CultureInfo.InvariantCulture, $"{(certificates is null ? "http" : "https")}://127.0.0.1:{webPort}/"));
        var process = await ChildProcess.StartAsync("maildev", "node", arguments, new Dictionary<string, string>(), logFile,
            new Uri(webUrl, "api/healthz"), certificates?.CaCertificate, cancellationToken);
        return new MailDev(process, smtpPort, webUrl, certificates is not null);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using CloudStore.Hosting;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace CloudStore.ControlPlane.Mail;

/// <summary>
/// Delivers each message to the configured relay over its own short connection (invitations and resets are rare,
/// so a pooled connection would only go stale). TLS 1.2 or later; locally the relay's certificate must chain to
/// the local CA (<c>Tls:CaCertificateFile</c>), in the cloud to the system's roots. The message body carries a
/// one-time link, so neither it nor the recipient's address is logged: only the purpose and the outcome.
/// </summary>
public sealed class SmtpMailSender(IOptions<MailOptions> options, IOptions<TlsOptions> tls, ILogger<SmtpMailSender> log) : IMailSender
{
    public async Task<bool> SendAsync(OutgoingMail mail, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var message = new MimeMessage();
        message.From.Add(new MailboxAddress(settings.FromName, settings.FromAddress));
        message.To.Add(MailboxAddress.Parse(mail.To));
        message.Subject = mail.Subject;
        message.Body = new TextPart("plain") { Text = mail.Text };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        using var smtp = new SmtpClient { SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13, Timeout = (int)settings.Timeout.TotalMilliseconds };
        if (tls.Value.CaCertificateFile is { Length: > 0 } caFile)
        {
            var ca = X509Certificate2.CreateFromPem(File.ReadAllText(caFile));
            smtp.ServerCertificateValidationCallback = (_, certificate, _, errors) => TrustedByLocalCa(ca, certificate, errors);
        }

        try
        {
            await smtp.ConnectAsync(settings.SmtpHost, settings.SmtpPort, Socket(settings.Security), timeout.Token);
            if (settings is { UserName: { Length: > 0 } user, Password: { } password })
            {
                await smtp.AuthenticateAsync(user, password, timeout.Token);
            }

            await smtp.SendAsync(message, timeout.Token);
            await smtp.DisconnectAsync(quit: true, timeout.Token);
            MailLog.Sent(log, mail.Purpose);
            return true;
        }
        catch (Exception e) when (e is CommandException or ProtocolException or SslHandshakeException or MailKit.Security.AuthenticationException or IOException or SocketException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A refused command is logged by its codes only: the relay's reply text often quotes the recipient's address.
            var reason = e is SmtpCommandException refused ? $"{refused.ErrorCode}, status {(int)refused.StatusCode}" : e.Message;
            MailLog.Failed(log, mail.Purpose, settings.SmtpHost, settings.SmtpPort, e.GetType().Name, reason);
            return false;
        }
    }

    static SecureSocketOptions Socket(MailSecurity security) => security switch
    {
        MailSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        MailSecurity.None => SecureSocketOptions.None,
        _ => SecureSocketOptions.StartTls,
    };

    /// <summary>The relay's certificate chains to the local CA (and names the host): what TrustedHttp checks for HTTPS.</summary>
    static bool TrustedByLocalCa(X509Certificate2 ca, X509Certificate? presented, SslPolicyErrors errors)
    {
        if (presented is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        using var certificate = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        return chain.Build(certificate);
    }
}

static partial class MailLog
{
    [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "Mail ({Purpose}) handed to the relay")]
    public static partial void Sent(ILogger logger, string purpose);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Error, Message = "Mail ({Purpose}) not sent: the relay {Host}:{Port} failed with {Error}: {Reason}")]
    public static partial void Failed(ILogger logger, string purpose, string host, int port, string error, string reason);
}

using System.Net;
using System.Net.Mail;

namespace CloudStore.ControlPlane.Mail;

/// <summary>How the connection to the SMTP server is protected.</summary>
public enum MailSecurity
{
    /// <summary>Plain connection upgraded with STARTTLS, which must succeed (port 587: Azure Communication Services, most relays).</summary>
    StartTls,

    /// <summary>TLS from the first byte (port 465; the local stack's maildev).</summary>
    SslOnConnect,

    /// <summary>No TLS: allowed only to a loopback server (the tests' maildev), where nothing crosses a network.</summary>
    None,
}

/// <summary>
/// The <c>Mail</c> section: the SMTP server invitations and password-reset links are sent through. The links
/// point at the web player (<c>Player:Origin</c>, required for that reason).
/// </summary>
public sealed class MailOptions
{
    public const string Section = "Mail";

    public string SmtpHost { get; set; } = "";

    public int SmtpPort { get; set; } = 587;

    public MailSecurity Security { get; set; } = MailSecurity.StartTls;

    /// <summary>The sender address people see; the relay must be allowed to send as it.</summary>
    public string FromAddress { get; set; } = "";

    public string FromName { get; set; } = "CloudStore";

    /// <summary>SMTP account, when the relay wants one; its password comes from a secret store (a Key Vault reference in Azure).</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>How long one delivery to the relay may take before the request gives up and says so.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The rules checked on start; each message names the setting.</summary>
    public static IEnumerable<string> Problems(MailOptions mail)
    {
        if (Uri.CheckHostName(mail.SmtpHost) == UriHostNameType.Unknown)
        {
            yield return "Mail:SmtpHost must be the SMTP server's host name or address.";
        }

        if (mail.SmtpPort is < 1 or > 65535)
        {
            yield return "Mail:SmtpPort must be from 1 to 65535.";
        }

        if (!Enum.IsDefined(mail.Security))
        {
            yield return "Mail:Security must be StartTls, SslOnConnect or None.";
        }
        else if (mail.Security == MailSecurity.None && !IsLoopback(mail.SmtpHost))
        {
            yield return "Mail:Security None is allowed only for a loopback SMTP server; use StartTls or SslOnConnect.";
        }

        if (!MailAddress.TryCreate(mail.FromAddress, out _))
        {
            yield return "Mail:FromAddress must be an email address.";
        }

        if (string.IsNullOrEmpty(mail.UserName) != string.IsNullOrEmpty(mail.Password))
        {
            yield return "Mail:UserName and Mail:Password go together.";
        }

        if (mail.Timeout <= TimeSpan.Zero || mail.Timeout > TimeSpan.FromMinutes(2))
        {
            yield return "Mail:Timeout must be more than zero and at most 2 minutes.";
        }
    }

    static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
}

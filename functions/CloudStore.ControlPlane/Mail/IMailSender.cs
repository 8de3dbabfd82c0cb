namespace CloudStore.ControlPlane.Mail;

/// <summary>A message to one person: plain text, because its only job is to carry a sentence and a link.</summary>
/// <param name="Purpose">What the message is for (<c>invitation</c>, <c>password-reset</c>): logged in place of its content.</param>
public sealed record OutgoingMail(string To, string Subject, string Text, string Purpose);

/// <summary>Sends mail. The one seam between the control plane and SMTP, so callers never see MailKit.</summary>
public interface IMailSender
{
    /// <returns>True when the relay accepted the message; false when it could not be delivered to the relay (logged, never thrown).</returns>
    Task<bool> SendAsync(OutgoingMail mail, CancellationToken cancellationToken);
}

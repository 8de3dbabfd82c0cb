using System.Globalization;
using CloudStore.ControlPlane.Mail;

namespace CloudStore.ControlPlane.Users;

/// <summary>
/// The texts of the account mails, built from the link and its expiry alone: no password, no name of the sender
/// beyond the organisation, nothing a reader could use but the link itself. Pure, so a test reads what is sent.
/// </summary>
public static class AccountMail
{
    /// <summary>The player page that takes a token of each purpose.</summary>
    public static string PagePath(string purpose) => purpose == AccountTokenPurposes.Invitation ? "invitation" : "reset-password";

    /// <summary>The link a message carries: the player's page with the token in the query.</summary>
    public static Uri Link(string playerOrigin, string purpose, string token) =>
        new(new Uri(playerOrigin.TrimEnd('/') + "/"), $"{PagePath(purpose)}?token={Uri.EscapeDataString(token)}");

    public static OutgoingMail Invitation(string to, string organization, Uri link, DateTimeOffset expiresAt) => new(
        to,
        $"You are invited to {organization} on CloudStore",
        $"""
        You have been invited to {organization} on CloudStore, where the organisation's camera recordings are kept.

        To accept, open this link and choose your password:

        {link}

        The link works once and expires {Format(expiresAt)}. Your first sign-in then sets up two-step
        verification with an authenticator app on your phone.

        If you did not expect this invitation, ignore this message.
        """,
        AccountTokenPurposes.Invitation);

    public static OutgoingMail PasswordReset(string to, string organization, Uri link, DateTimeOffset expiresAt) => new(
        to,
        "Set a new CloudStore password",
        $"""
        An administrator of {organization} started a password reset for your CloudStore account. Your sessions have
        been ended; your authenticator stays as it is.

        To choose a new password, open this link:

        {link}

        The link works once and expires {Format(expiresAt)}. If you did not expect this, tell your administrator.
        """,
        AccountTokenPurposes.PasswordReset);

    static string Format(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}

namespace CloudStore.Player.Components.Pages;

/// <summary>The form of the invitation and password-reset pages: the link's token (hidden) and the new password twice.</summary>
public sealed class PasswordLinkForm
{
    public string Token { get; set; } = "";

    public string Password { get; set; } = "";

    public string Repeat { get; set; } = "";

    /// <summary>What to tell the person when the two entries differ; null when they match.</summary>
    public string? Mismatch => string.Equals(Password, Repeat, StringComparison.Ordinal) ? null : "The two passwords differ; type the same one twice.";
}

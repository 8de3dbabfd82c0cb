using CloudStore.ControlPlane.Mail;
using CloudStore.ControlPlane.Users;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>What the account mails say and where their links go; which relay settings are refused on start.</summary>
public sealed class AccountMailTests
{
    static readonly DateTimeOffset Expiry = new(2026, 12, 4, 9, 30, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(AccountTokenPurposes.Invitation, "https://player.test/invitation?token=")]
    [InlineData(AccountTokenPurposes.PasswordReset, "https://player.test/reset-password?token=")]
    public void Link_PointsAtThePlayersPageForThePurpose_TokenEscaped(string purpose, string expected)
    {
        var link = AccountMail.Link("https://player.test/", purpose, "a-b_c+d");

        Assert.Equal(expected + "a-b_c%2Bd", link.ToString());
    }

    [Fact]
    public void Invitation_CarriesTheLinkAndItsExpiryInUtc()
    {
        var link = AccountMail.Link("https://player.test", AccountTokenPurposes.Invitation, "TOKEN");

        var mail = AccountMail.Invitation("ana@example.test", "Harbour Ltd", link, Expiry);

        Assert.Equal("ana@example.test", mail.To);
        Assert.Equal("You are invited to Harbour Ltd on CloudStore", mail.Subject);
        Assert.Contains(link.ToString(), mail.Text, StringComparison.Ordinal);
        Assert.Contains("2026-12-04 09:30 UTC", mail.Text, StringComparison.Ordinal);
        Assert.Equal(AccountTokenPurposes.Invitation, mail.Purpose);
    }

    [Fact]
    public void PasswordReset_SaysSessionsEnded_AndCarriesTheLink()
    {
        var link = AccountMail.Link("https://player.test", AccountTokenPurposes.PasswordReset, "TOKEN");

        var mail = AccountMail.PasswordReset("ana@example.test", "Harbour Ltd", link, Expiry);

        Assert.Contains("sessions have", mail.Text, StringComparison.Ordinal);
        Assert.Contains(link.ToString(), mail.Text, StringComparison.Ordinal);
        Assert.Equal(AccountTokenPurposes.PasswordReset, mail.Purpose);
    }

    [Theory]
    [InlineData("smtp.azurecomm.net", 587, MailSecurity.StartTls, null)]
    [InlineData("127.0.0.1", 1025, MailSecurity.None, null)]
    [InlineData("localhost", 1025, MailSecurity.None, null)]
    [InlineData("smtp.example.test", 25, MailSecurity.None, "Mail:Security")]
    [InlineData("", 587, MailSecurity.StartTls, "Mail:SmtpHost")]
    [InlineData("smtp.example.test", 0, MailSecurity.SslOnConnect, "Mail:SmtpPort")]
    public void Problems_RefuseUnsafeOrIncompleteRelays(string host, int port, MailSecurity security, string? refused)
    {
        var options = new MailOptions { SmtpHost = host, SmtpPort = port, Security = security, FromAddress = "no-reply@cloudstore.test" };

        var problems = MailOptions.Problems(options).ToList();

        if (refused is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            Assert.StartsWith(refused, Assert.Single(problems), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Problems_AccountNeedsBothNameAndPassword()
    {
        var options = new MailOptions { SmtpHost = "smtp.example.test", FromAddress = "no-reply@cloudstore.test", UserName = "relay" };

        Assert.StartsWith("Mail:UserName", Assert.Single(MailOptions.Problems(options)), StringComparison.Ordinal);
    }
}

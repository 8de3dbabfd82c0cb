using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Users;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>The NIST SP 800-63B style rules (length itself is Identity's RequiredLength, checked in the sign-in tests).</summary>
public sealed class PasswordPolicyTests
{
    [Theory]
    [InlineData("correct horse battery staple")]
    [InlineData("lowercase only but long enough")]
    [InlineData("1029384756-not-a-sequence")]
    [InlineData("Ünïcödé pässphrase wörks")]
    public async Task Validate_LongPassphraseWithoutCompositionRules_Accepted(string password)
    {
        var result = await new PasswordPolicy().ValidateAsync(null!, User("jane.doe@example.test"), password);

        Assert.True(result.Succeeded, string.Join("; ", result.Errors.Select(e => e.Description)));
    }

    [Theory]
    [InlineData("password123", "PasswordCommon")]
    [InlineData("PASSWORD123", "PasswordCommon")]
    [InlineData("qwertyuiop", "PasswordCommon")]
    [InlineData("1234567890", "PasswordCommon")]
    [InlineData("zzzzzzzzzzzz", "PasswordRepetitive")]
    [InlineData("my name is jane.doe!", "PasswordContainsName")]
    public async Task Validate_GuessablePassword_Refused(string password, string code)
    {
        var result = await new PasswordPolicy().ValidateAsync(null!, User("jane.doe@example.test"), password);

        Assert.Contains(result.Errors, e => e.Code == code);
    }

    [Fact]
    public async Task Validate_OverLongPassword_Refused()
    {
        var result = await new PasswordPolicy().ValidateAsync(null!, User("a@example.test"), new string('x', 200) + new string('y', 57));

        Assert.Contains(result.Errors, e => e.Code == "PasswordTooLong");
    }

    static CloudStoreUser User(string email) => new() { Email = email, UserName = email, Role = "operator" };
}

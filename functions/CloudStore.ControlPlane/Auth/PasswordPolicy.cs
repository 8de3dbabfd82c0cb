using System.Reflection;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Identity;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// Password rules in the style of NIST SP 800-63B §3.1.1.2: at least 10 characters, long passphrases
/// welcome (up to 256), no composition rules, and refuse what an attacker tries first — common and
/// breached passwords, the account's own name, one repeated character.
/// Length is checked by Identity's own validator (options in <see cref="AuthServices"/>).
/// </summary>
public sealed class PasswordPolicy : IPasswordValidator<CloudStoreUser>
{
    static readonly HashSet<string> Common = LoadCommonPasswords();

    public Task<IdentityResult> ValidateAsync(UserManager<CloudStoreUser> manager, CloudStoreUser user, string? password)
    {
        var errors = new List<IdentityError>();
        password ??= string.Empty;
        if (password.Length > Limits.PasswordMaxLength)
        {
            errors.Add(new IdentityError { Code = "PasswordTooLong", Description = $"Passwords may be at most {Limits.PasswordMaxLength} characters." });
        }

        if (Common.Contains(password))
        {
            errors.Add(new IdentityError { Code = "PasswordCommon", Description = "This password is on a list of common or breached passwords; choose another." });
        }

        if (password.Length > 0 && password.All(c => c == password[0]))
        {
            errors.Add(new IdentityError { Code = "PasswordRepetitive", Description = "A password of one repeated character is too easy to guess." });
        }

        var localPart = (user.Email ?? user.UserName ?? string.Empty).Split('@')[0];
        if (localPart.Length >= 4 && password.Contains(localPart, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(new IdentityError { Code = "PasswordContainsName", Description = "A password must not contain the account's name." });
        }

        return Task.FromResult(errors.Count == 0 ? IdentityResult.Success : IdentityResult.Failed([.. errors]));
    }

    static HashSet<string> LoadCommonPasswords()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("CloudStore.ControlPlane.Auth.common-passwords.txt")
            ?? throw new InvalidOperationException("The common-password list is not embedded.");
        using var reader = new StreamReader(stream);
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                set.Add(line);
            }
        }

        return set;
    }
}

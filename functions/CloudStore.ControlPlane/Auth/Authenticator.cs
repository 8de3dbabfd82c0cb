using System.Globalization;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Identity;
using QRCoder;

namespace CloudStore.ControlPlane.Auth;

/// <summary>TOTP authenticator enrolment (RFC 6238 through ASP.NET Core Identity) and recovery codes.</summary>
public sealed class Authenticator(UserManager<CloudStoreUser> users, AuditLog audit)
{
    public const int RecoveryCodeCount = 10;
    const string IssuerName = "CloudStore";

    /// <summary>A new secret for a user who has no authenticator yet. Shown once; unused until confirmed.</summary>
    public async Task<AuthenticatorSetupResponse> BeginAsync(CloudStoreUser user)
    {
        await users.ResetAuthenticatorKeyAsync(user);
        var key = await users.GetAuthenticatorKeyAsync(user)
            ?? throw new InvalidOperationException("Identity did not store an authenticator key.");
        var uri = string.Create(
            CultureInfo.InvariantCulture,
            $"otpauth://totp/{Uri.EscapeDataString(IssuerName)}:{Uri.EscapeDataString(user.Email!)}?secret={key}&issuer={Uri.EscapeDataString(IssuerName)}&algorithm=SHA1&digits=6&period=30");
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        var svg = new SvgQRCode(data).GetGraphic(4);
        return new AuthenticatorSetupResponse(key, uri, svg);
    }

    /// <returns>The new recovery codes, or null if the code does not match the pending secret.</returns>
    public async Task<IReadOnlyList<string>?> ConfirmAsync(CloudStoreUser user, string code, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!await users.VerifyTwoFactorTokenAsync(user, TokenOptions.DefaultAuthenticatorProvider, code))
        {
            return null;
        }

        await users.SetTwoFactorEnabledAsync(user, true);
        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount);
        audit.Add(user.OrganizationId, $"user:{user.Id}", AuditActions.TwoFactorEnrolled, $"user:{user.Id}", AuditLog.Success);
        return [.. codes ?? []];
    }
}

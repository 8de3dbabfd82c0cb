using System.Globalization;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using QRCoder;

namespace CloudStore.ControlPlane.Auth;

/// <summary>TOTP authenticator enrolment (RFC 6238 through ASP.NET Core Identity) and recovery codes.</summary>
public sealed class Authenticator(UserManager<CloudStoreUser> users, DirectoryDbContext db, AuditLog audit, TimeProvider time)
{
    public const int RecoveryCodeCount = 10;
    const string IssuerName = "CloudStore";

    /// <summary>A new secret for a user who has no authenticator yet. Shown once; unused until confirmed.</summary>
    public async Task<AuthenticatorSetupResponse> BeginAsync(CloudStoreUser user, CancellationToken cancellationToken)
    {
        await users.ResetAuthenticatorKeyAsync(user);
        // Used steps belong to the old key: the new key's codes start afresh.
        await db.UsedTotpSteps.Where(u => u.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
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
        if (!await VerifyOnceAsync(user, code, cancellationToken))
        {
            return null;
        }

        await users.SetTwoFactorEnabledAsync(user, true);
        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount);
        audit.Add(user.OrganizationId, $"user:{user.Id}", AuditActions.TwoFactorEnrolled, $"user:{user.Id}", AuditLog.Success);
        return [.. codes ?? []];
    }

    /// <summary>
    /// Checks an authenticator code and consumes its time step for the user: a code is accepted once. The step is
    /// claimed with one conditional update (only if it is later than the last one claimed), so of parallel requests
    /// with the same code exactly one wins, whichever instance serves it.
    /// </summary>
    public async Task<bool> VerifyOnceAsync(CloudStoreUser user, string code, CancellationToken cancellationToken)
    {
        var key = await users.GetAuthenticatorKeyAsync(user);
        var lastUsed = await db.UsedTotpSteps.AsNoTracking().Where(u => u.UserId == user.Id).Select(u => (long?)u.LastStep).SingleOrDefaultAsync(cancellationToken);
        return key is not null
            && TotpCode.Match(key, code, time.GetUtcNow(), lastUsed) is { } step
            && await db.ClaimTotpStepAsync(user.Id, step, cancellationToken);
    }
}

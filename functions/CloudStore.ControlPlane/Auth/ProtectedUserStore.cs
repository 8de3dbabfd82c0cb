using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// Identity's user store, sealing what it keeps in <c>AspNetUserTokens</c> (the authenticator's secret and the recovery
/// codes: nothing else is stored there) with data protection, so a copy of that table, a backup or a query result opens
/// no second factor. The key ring is the directory's own (<see cref="DirectoryDbContext.DataProtectionKeys"/>), shared by
/// every instance. A value stored before (no <see cref="Prefix"/>) is read as it is and sealed at its next change.
/// </summary>
public sealed class ProtectedUserStore(DirectoryDbContext context, IDataProtectionProvider protection, IdentityErrorDescriber? describer = null)
    : UserOnlyStore<CloudStoreUser, DirectoryDbContext, Guid>(context, describer)
{
    /// <summary>Marks a sealed value; no plain one starts so (base32 keys and recovery codes have no colon).</summary>
    const string Prefix = "dp1:";

    readonly IDataProtector _protector = protection.CreateProtector("CloudStore.ControlPlane.UserTokens.v1");

    public override Task SetTokenAsync(CloudStoreUser user, string loginProvider, string name, string? value, CancellationToken cancellationToken) =>
        base.SetTokenAsync(user, loginProvider, name, value is null ? null : Prefix + _protector.Protect(value), cancellationToken);

    public override async Task<string?> GetTokenAsync(CloudStoreUser user, string loginProvider, string name, CancellationToken cancellationToken)
    {
        var stored = await base.GetTokenAsync(user, loginProvider, name, cancellationToken);
        return stored is not null && stored.StartsWith(Prefix, StringComparison.Ordinal) ? _protector.Unprotect(stored[Prefix.Length..]) : stored;
    }
}

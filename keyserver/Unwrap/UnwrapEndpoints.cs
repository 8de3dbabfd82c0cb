using System.Security.Claims;
using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.KeyServer.KeyStores;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.KeyServer.Unwrap;

/// <summary>
/// Step I: a player sends a wrapped key (as the playlist carried it) with the user's token; the key
/// server opens it with the organisation's private key and returns the 16-byte AES key, only to a
/// person of the organisation the binding record names: an administrator or operator for any key, a viewer
/// (who may watch live only) for the one key a live grant from the live playlist names. Every unwrap and
/// refusal is audited.
/// </summary>
public static class UnwrapEndpoints
{
    /// <summary>People of an organisation: administrators, operators and viewers (viewers need a live grant besides).</summary>
    public const string PeoplePolicy = "people";

    /// <summary>The rate-limit policy: a fixed number of unwraps per user per minute.</summary>
    public const string PerUserLimit = "unwraps-per-user";

    public static IEndpointRouteBuilder MapUnwrap(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/keys/{keyId}", Unwrap).RequireAuthorization(PeoplePolicy).RequireRateLimiting(PerUserLimit);
        app.MapGet("/v1/audit", Query).RequireAuthorization(policy => policy.RequireClaim(ClaimNames.Role, Roles.Administrator));
        return app;
    }

    static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Unwrap(
        string keyId, string? wrapped, string? grant, ClaimsPrincipal user, HttpContext context, IKeyStore keys, LiveGrants grants, KeyAudit audit, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var organization = user.FindFirstValue(ClaimNames.Organization) ?? "";
        var subject = user.FindFirstValue(ClaimNames.Subject) ?? "";
        var source = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        async Task<ProblemHttpResult> RefuseAsync(int status, string reason, string camera, string title)
        {
            await audit.WriteAsync(time.GetUtcNow(), organization, subject, source, camera, keyId, "failure:" + reason, cancellationToken);
            return TypedResults.Problem(title: title, statusCode: status);
        }

        // Exactly 32 hex digits: Guid parsing would also take surrounding whitespace, which the audit would record as sent.
        if (keyId.Length != 32 || !Guid.TryParseExact(keyId, "N", out var dataKeyId) || string.IsNullOrEmpty(wrapped) || wrapped.Length > 2048)
        {
            return await RefuseAsync(StatusCodes.Status400BadRequest, "malformed", "", "Not a wrapped key");
        }

        // A viewer watches live only: the grant must name this key and this viewer, checked before any private-key work.
        LiveGrantClaims? live = null;
        if (user.IsInRole(Roles.Viewer))
        {
            if (string.IsNullOrEmpty(grant))
            {
                return await RefuseAsync(StatusCodes.Status403Forbidden, "no-live-grant", "", "Viewers may open only the keys of live video");
            }

            live = await grants.ValidateAsync(grant, cancellationToken);
            if (live is null || live.Subject != subject || live.Organization != organization || live.DataKeyId != dataKeyId)
            {
                return await RefuseAsync(StatusCodes.Status403Forbidden, "live-grant-refused", live?.CameraId.ToString() ?? "", "The live grant does not allow this key");
            }
        }

        BindingRecord record;
        try
        {
            record = await keys.UnwrapAsync(WrappedKey.Parse(Base64UrlEncoder.DecodeBytes(wrapped)), cancellationToken);
        }
        catch (KeyDestroyedException)
        {
            // Crypto-shredding: the organisation was deleted. Not a tampered key, and not worth retrying.
            return await RefuseAsync(StatusCodes.Status410Gone, "key-destroyed", "", "The organisation's key was destroyed");
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            return await RefuseAsync(StatusCodes.Status400BadRequest, "tampered", "", "The wrapped key cannot be opened");
        }

        try
        {
            var camera = record.CameraId.ToString();
            if (record.DataKeyId != dataKeyId)
            {
                return await RefuseAsync(StatusCodes.Status400BadRequest, "key-id-mismatch", camera, "The wrapped key is not the one named");
            }

            if (!Guid.TryParse(organization, out var callerOrganization) || callerOrganization != record.OrganizationId)
            {
                return await RefuseAsync(StatusCodes.Status403Forbidden, "other-organization", camera, "Not your organisation's recording");
            }

            if (live is not null && live.CameraId != record.CameraId)
            {
                return await RefuseAsync(StatusCodes.Status403Forbidden, "live-grant-refused", camera, "The live grant does not allow this key");
            }

            await audit.WriteAsync(time.GetUtcNow(), organization, subject, source, camera, keyId, "success", cancellationToken);
            return TypedResults.File(record.Key.ToArray(), "application/octet-stream");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(record.Key);
        }
    }

    static async Task<Ok<IReadOnlyList<KeyAuditEntry>>> Query(ClaimsPrincipal user, KeyAudit audit, CancellationToken cancellationToken) =>
        TypedResults.Ok(await audit.QueryAsync(user.FindFirstValue(ClaimNames.Organization) ?? "", 1000, cancellationToken));
}

using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Regional;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Platform;

/// <summary>A camera of the caller's organisation, with the region its recordings live in (null: none chosen or not served here).</summary>
public sealed record CallerCamera(Camera Camera, string? Region);

/// <summary>What a request needs to know of the caller's organisation: whether it still exists (not deleted), and its home region.</summary>
public sealed record CallerOrganization(bool Live, string? HomeRegion);

/// <summary>
/// Who calls this request, and what each operation needs to know about them, each looked up at most once
/// per request: the caller (from the validated token), the organisation (read by the deleted-organisation gate,
/// so the home region comes with it), and cameras scoped to the organisation (and, for a device, to the device).
/// Scoped: one per request.
/// </summary>
public sealed class CallerContext(IHttpContextAccessor http, DirectoryDbContext db, RegionCatalog regions)
{
    Caller? _caller;
    (Guid Id, CallerOrganization? Organization)? _organization;

    public Caller Caller => _caller ??= Caller.From(http.HttpContext?.User ?? throw new InvalidOperationException("No request in progress."));

    /// <summary>
    /// The organisation a token names, as the directory has it now (null: gone): read once per request, by the
    /// deleted-organisation gate before any endpoint runs, and reused for the home region.
    /// </summary>
    public async ValueTask<CallerOrganization?> OrganizationAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        if (_organization is not { } read || read.Id != organizationId)
        {
            var row = await db.Organizations.Where(o => o.Id == organizationId)
                .Select(o => new { o.DeletedAt, o.HomeRegion })
                .SingleOrDefaultAsync(cancellationToken);
            read = (organizationId, row is null ? null : new CallerOrganization(row.DeletedAt == null, row.HomeRegion));
            _organization = read;
        }

        return read.Organization;
    }

    /// <summary>The organisation's home region if chosen, whether or not this deployment serves it.</summary>
    public async ValueTask<string?> HomeRegionAsync(CancellationToken cancellationToken) =>
        (await OrganizationAsync(Caller.OrganizationId, cancellationToken))?.HomeRegion;

    /// <summary>The home region when this deployment serves it; null otherwise.</summary>
    public async ValueTask<string?> ServedRegionAsync(CancellationToken cancellationToken) =>
        await HomeRegionAsync(cancellationToken) is { } region && regions.IsConfigured(region) ? region : null;

    /// <summary>A camera of the caller's organisation (for a device caller: one of its own cameras), or null.</summary>
    public async Task<CallerCamera?> CameraAsync(Guid cameraId, CancellationToken cancellationToken)
    {
        var caller = Caller;
        var cameras = db.Cameras.Where(c => c.Id == cameraId && c.OrganizationId == caller.OrganizationId);
        if (caller.Role == Contracts.Roles.Device)
        {
            var deviceId = Guid.Parse(caller.Subject);
            cameras = cameras.Where(c => c.DeviceId == deviceId);
        }

        return await cameras.SingleOrDefaultAsync(cancellationToken) is { } camera
            ? new CallerCamera(camera, await ServedRegionAsync(cancellationToken))
            : null;
    }
}

using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Regional;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Platform;

/// <summary>A camera of the caller's organisation, with the region its recordings live in (null: none chosen or not served here).</summary>
public sealed record CallerCamera(Camera Camera, string? Region);

/// <summary>
/// Who calls this request, and what each operation needs to know about them, each looked up at most once
/// per request: the caller (from the validated token), the organisation's home region, and cameras scoped
/// to the organisation (and, for a device, to the device). Scoped: one per request.
/// </summary>
public sealed class CallerContext(IHttpContextAccessor http, DirectoryDbContext db, RegionCatalog regions)
{
    Caller? _caller;
    string? _homeRegion;
    bool _homeRegionRead;

    public Caller Caller => _caller ??= Caller.From(http.HttpContext?.User ?? throw new InvalidOperationException("No request in progress."));

    /// <summary>The organisation's home region if chosen, whether or not this deployment serves it.</summary>
    public async ValueTask<string?> HomeRegionAsync(CancellationToken cancellationToken)
    {
        if (!_homeRegionRead)
        {
            _homeRegion = await db.Organizations.Where(o => o.Id == Caller.OrganizationId).Select(o => o.HomeRegion).SingleOrDefaultAsync(cancellationToken);
            _homeRegionRead = true;
        }

        return _homeRegion;
    }

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

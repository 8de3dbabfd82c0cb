using CloudStore.Contracts;
using CloudStore.ControlPlane.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Devices;

public sealed class ActiveDeviceRequirement : IAuthorizationRequirement;

/// <summary>
/// Device tokens live for minutes; revocation must act at once. So every device request checks
/// that the device is still active in the directory.
/// </summary>
public sealed class ActiveDeviceHandler(DirectoryDbContext db, IHttpContextAccessor http) : AuthorizationHandler<ActiveDeviceRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ActiveDeviceRequirement requirement)
    {
        var subject = context.User.FindFirst(ClaimNames.Subject)?.Value;
        var organization = context.User.FindFirst(ClaimNames.Organization)?.Value;
        if (!Guid.TryParse(subject, out var deviceId) || !Guid.TryParse(organization, out var organizationId))
        {
            return;
        }

        var cancellationToken = http.HttpContext?.RequestAborted ?? CancellationToken.None;
        var active = await db.Devices.AnyAsync(
            d => d.Id == deviceId && d.OrganizationId == organizationId && d.Status == DeviceStatus.Active,
            cancellationToken);
        if (active)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, "The device is revoked or not enrolled."));
        }
    }
}

using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Http;

/// <summary>Organizations: each function hands its request to the control-plane operation of the same name.</summary>
public sealed class OrganizationFunctions(OperationTable operations)
{
    [Function(nameof(GetOrganization))]
    public IResult GetOrganization([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "organization")] HttpRequest request) =>
        operations.Result(nameof(GetOrganization));

    [Function(nameof(DeleteOrganization))]
    public IResult DeleteOrganization([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "organization")] HttpRequest request) =>
        operations.Result(nameof(DeleteOrganization));

    [Function(nameof(SetOrganizationPolicy))]
    public IResult SetOrganizationPolicy([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "organization/policy")] HttpRequest request) =>
        operations.Result(nameof(SetOrganizationPolicy));

    [Function(nameof(SetOrganizationRegion))]
    public IResult SetOrganizationRegion([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "organization/region")] HttpRequest request) =>
        operations.Result(nameof(SetOrganizationRegion));

    [Function(nameof(ListNotifications))]
    public IResult ListNotifications([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "organization/notifications")] HttpRequest request) =>
        operations.Result(nameof(ListNotifications));

    [Function(nameof(ListLicences))]
    public IResult ListLicences([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "organization/licences")] HttpRequest request) =>
        operations.Result(nameof(ListLicences));
}

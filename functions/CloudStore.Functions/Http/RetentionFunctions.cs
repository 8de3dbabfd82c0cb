using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Http;

/// <summary>Retention and legal holds: each function hands its request to the control-plane operation of the same name.</summary>
public sealed class RetentionFunctions(OperationTable operations)
{
    [Function(nameof(SetCameraRetention))]
    public IResult SetCameraRetention([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "cameras/{id:guid}/retention")] HttpRequest request) =>
        operations.Result(nameof(SetCameraRetention));

    [Function(nameof(PlaceLegalHold))]
    public IResult PlaceLegalHold([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cameras/{id:guid}/holds")] HttpRequest request) =>
        operations.Result(nameof(PlaceLegalHold));

    [Function(nameof(ListLegalHolds))]
    public IResult ListLegalHolds([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cameras/{id:guid}/holds")] HttpRequest request) =>
        operations.Result(nameof(ListLegalHolds));

    [Function(nameof(ReleaseLegalHold))]
    public IResult ReleaseLegalHold([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cameras/{id:guid}/holds/{holdId:guid}/release")] HttpRequest request) =>
        operations.Result(nameof(ReleaseLegalHold));

    [Function(nameof(SetOrganizationRetention))]
    public IResult SetOrganizationRetention([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "organization/retention")] HttpRequest request) =>
        operations.Result(nameof(SetOrganizationRetention));
}

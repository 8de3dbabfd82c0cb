using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Http;

/// <summary>Audit: each function hands its request to the control-plane operation of the same name.</summary>
public sealed class AuditFunctions(OperationTable operations)
{
    [Function(nameof(QueryAudit))]
    public IResult QueryAudit([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "audit")] HttpRequest request) =>
        operations.Result(nameof(QueryAudit));
}

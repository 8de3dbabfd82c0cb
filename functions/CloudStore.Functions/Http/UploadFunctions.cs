using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Http;

/// <summary>Upload: each function hands its request to the control-plane operation of the same name.</summary>
public sealed class UploadFunctions(OperationTable operations)
{
    [Function(nameof(IssueCredentials))]
    public IResult IssueCredentials([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "credentials")] HttpRequest request) =>
        operations.Result(nameof(IssueCredentials));

    [Function(nameof(IndexSegments))]
    public IResult IndexSegments([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "segments")] HttpRequest request) =>
        operations.Result(nameof(IndexSegments));
}

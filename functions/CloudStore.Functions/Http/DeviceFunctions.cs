using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Http;

/// <summary>Devices: each function hands its request to the control-plane operation of the same name.</summary>
public sealed class DeviceFunctions(OperationTable operations)
{
    [Function(nameof(ListDevices))]
    public IResult ListDevices([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "devices")] HttpRequest request) =>
        operations.Result(nameof(ListDevices));

    [Function(nameof(CreateDevice))]
    public IResult CreateDevice([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "devices")] HttpRequest request) =>
        operations.Result(nameof(CreateDevice));

    [Function(nameof(GetDevice))]
    public IResult GetDevice([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "devices/{id:guid}")] HttpRequest request) =>
        operations.Result(nameof(GetDevice));

    [Function(nameof(NewDeviceEnrolmentCode))]
    public IResult NewDeviceEnrolmentCode([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "devices/{id:guid}/enrolment-code")] HttpRequest request) =>
        operations.Result(nameof(NewDeviceEnrolmentCode));

    [Function(nameof(RevokeDevice))]
    public IResult RevokeDevice([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "devices/{id:guid}/revoke")] HttpRequest request) =>
        operations.Result(nameof(RevokeDevice));

    [Function(nameof(DeleteDevice))]
    public IResult DeleteDevice([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "devices/{id:guid}")] HttpRequest request) =>
        operations.Result(nameof(DeleteDevice));

    [Function(nameof(CreateCamera))]
    public IResult CreateCamera([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "devices/{id:guid}/cameras")] HttpRequest request) =>
        operations.Result(nameof(CreateCamera));

    [Function(nameof(EnrolDevice))]
    public IResult EnrolDevice([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "devices/enrol")] HttpRequest request) =>
        operations.Result(nameof(EnrolDevice));

    [Function(nameof(DeviceToken))]
    public IResult DeviceToken([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "devices/token")] HttpRequest request) =>
        operations.Result(nameof(DeviceToken));

    [Function(nameof(GetDeviceSelf))]
    public IResult GetDeviceSelf([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "devices/self")] HttpRequest request) =>
        operations.Result(nameof(GetDeviceSelf));

    [Function(nameof(ListCameras))]
    public IResult ListCameras([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cameras")] HttpRequest request) =>
        operations.Result(nameof(ListCameras));

    [Function(nameof(GetCamera))]
    public IResult GetCamera([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cameras/{id:guid}")] HttpRequest request) =>
        operations.Result(nameof(GetCamera));

    [Function(nameof(DeleteCamera))]
    public IResult DeleteCamera([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "cameras/{id:guid}")] HttpRequest request) =>
        operations.Result(nameof(DeleteCamera));

    [Function(nameof(EnableCamera))]
    public IResult EnableCamera([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cameras/{id:guid}/enable")] HttpRequest request) =>
        operations.Result(nameof(EnableCamera));

    [Function(nameof(DisableCamera))]
    public IResult DisableCamera([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cameras/{id:guid}/disable")] HttpRequest request) =>
        operations.Result(nameof(DisableCamera));
}

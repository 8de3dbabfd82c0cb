using Azure;
using Microsoft.Extensions.Logging;

namespace CloudStore.Device.Upload;

/// <summary>
/// What the uploader logs (event ids 1000–1099). Reasons are a status code or an exception type: never a
/// URL (grants carry SAS or presigned signatures in theirs), a token, a key or exception text.
/// </summary>
static partial class UploaderLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning,
        Message = "Camera {CameraId}: {Operation} failed ({Reason}); attempt {Attempt}, retrying in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, Guid cameraId, string operation, string reason, int attempt, long delayMs);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information,
        Message = "Camera {CameraId}: {Operation} works again after {Attempts} failed attempts")]
    public static partial void Recovered(ILogger logger, Guid cameraId, string operation, int attempts);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error,
        Message = "Camera {CameraId}: dropped segment {Sequence}, the oldest not yet uploaded, to make room for a {NewBytes}-byte file: the stream cache is full (capacity {CapacityBytes} bytes)")]
    public static partial void SegmentDropped(ILogger logger, Guid cameraId, long sequence, long newBytes, long capacityBytes);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning,
        Message = "Camera {CameraId}: the control plane refused to index {Count} segments (status {Status}); they are counted as rejected and not retried")]
    public static partial void IndexRefused(ILogger logger, Guid cameraId, int count, int status);

    /// <summary>Why a request failed, safe to log: the status (and storage error code) or the exception's type.</summary>
    public static string Reason(Exception exception) => exception switch
    {
        RequestFailedException { Status: > 0, ErrorCode: { Length: > 0 } code } failed => $"status {failed.Status} {code}",
        RequestFailedException { Status: > 0 } failed => $"status {failed.Status}",
        RequestFailedException { InnerException: { } inner } => Reason(inner),
        HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } http => $"{nameof(HttpRequestException)} {http.HttpRequestError}",
        DeviceRequestRefusedException refused => $"status {refused.Status}",
        AggregateException { InnerExceptions: [var first, ..] } => Reason(first),
        _ => exception.GetType().Name,
    };
}

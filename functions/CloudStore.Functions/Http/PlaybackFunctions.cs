using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Http;

/// <summary>Playback: each function hands its request to the control-plane operation of the same name.</summary>
public sealed class PlaybackFunctions(OperationTable operations)
{
    [Function(nameof(GetTimeline))]
    public IResult GetTimeline([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cameras/{id:guid}/timeline")] HttpRequest request) =>
        operations.Result(nameof(GetTimeline));

    [Function(nameof(GetPlaylist))]
    public IResult GetPlaylist([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cameras/{id:guid}/playlist.m3u8")] HttpRequest request) =>
        operations.Result(nameof(GetPlaylist));

    [Function(nameof(GetLivePlaylist))]
    public IResult GetLivePlaylist([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "cameras/{id:guid}/live.m3u8")] HttpRequest request) =>
        operations.Result(nameof(GetLivePlaylist));

    [Function(nameof(ReportTamper))]
    public IResult ReportTamper([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cameras/{id:guid}/tamper-reports")] HttpRequest request) =>
        operations.Result(nameof(ReportTamper));

    [Function(nameof(RecordExport))]
    public IResult RecordExport([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "cameras/{id:guid}/exports")] HttpRequest request) =>
        operations.Result(nameof(RecordExport));
}

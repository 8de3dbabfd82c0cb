using CloudStore.Device.Media;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// Real H.264 video cut by ffmpeg into fMP4 segments, made once for a test class: ten seconds of
/// testsrc2 with a burnt-in clock in 2-second segments (five segments and their init segment).
/// </summary>
public sealed class SourceVideoFixture : IAsyncLifetime
{
    readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-video-").FullName;

    public string Playlist { get; private set; } = "";

    public IReadOnlyList<SourceSegment> Segments { get; private set; } = [];

    public static readonly TimeSpan SegmentLength = TimeSpan.FromSeconds(2);

    public async Task InitializeAsync()
    {
        Playlist = await Ffmpeg.SegmentToFolderAsync(new VideoSource.Generated(Duration: TimeSpan.FromSeconds(10), RealTime: false), _folder, SegmentLength, CancellationToken.None);
        Segments = HlsFolder.ReadCompleted(Playlist);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}

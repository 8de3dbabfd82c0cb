using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.Device.Media;
using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Upload;

/// <summary>Step E refuses bad metadata with a 4xx problem and stores nothing; the same segment twice is one row.</summary>
public sealed class BadMetadataTests(BadMetadataTests.Setup setup) : IClassFixture<BadMetadataTests.Setup>
{
    public static TheoryData<string, int> Flaws => new()
    {
        { "negative duration", 400 },
        { "start far in the future", 400 },
        { "start before 2020", 400 },
        { "sequence reused with another digest", 409 },
        { "unknown camera", 404 },
        { "another camera's object", 404 },
        { "object name with ..", 400 },
        { "object name under another prefix", 400 },
        { "absolute object name", 400 },
        { "oversized batch", 400 },
        { "object not uploaded", 400 },
        { "size differs from what is stored", 400 },
        { "bad digest", 400 },
        { "bad iv", 400 },
        { "unregistered init segment", 400 },
        { "duplicate sequence in batch", 400 },
        { "wrapped key not base64", 400 },
        { "too many wrapped keys", 400 },
    };

    [Theory]
    [MemberData(nameof(Flaws))]
    public async Task Index_BadMetadata_RefusedAndNothingStored(string flaw, int status)
    {
        var before = await setup.IndexFingerprintAsync();
        var good = setup.Indexed;
        var now = TimeProvider.System.GetUtcNow();
        var fresh = good with { Sequence = 1000, Media = good.Media with { ObjectName = "segments/000000001000.m4s" } };
        var batch = flaw switch
        {
            "negative duration" => Batch(fresh with { DurationMs = -4000 }),
            "start far in the future" => Batch(fresh with { StartTime = now.AddDays(2) }),
            "start before 2020" => Batch(fresh with { StartTime = new DateTimeOffset(1999, 1, 1, 0, 0, 0, TimeSpan.Zero) }),
            "sequence reused with another digest" => Batch(good with { Media = good.Media with { Sha256 = new string('0', 64) } }),
            "unknown camera" => new SegmentBatch(Guid.NewGuid(), [], [fresh]),
            "another camera's object" => new SegmentBatch(setup.OtherCameraId, [], [good]),
            "object name with .." => Batch(fresh with { Media = fresh.Media with { ObjectName = "segments/../keys/x.key" } }),
            "object name under another prefix" => Batch(fresh with { Media = fresh.Media with { ObjectName = "elsewhere/000000001000.m4s" } }),
            "absolute object name" => Batch(fresh with { Media = fresh.Media with { ObjectName = "/segments/000000001000.m4s" } }),
            "oversized batch" => Batch([.. Enumerable.Range(0, SegmentBatch.MaxSegments + 1).Select(i => fresh with { Sequence = 2000 + i })]),
            "object not uploaded" => Batch(fresh),
            "size differs from what is stored" => Batch(good with { Sequence = 1001, Media = good.Media with { Size = good.Media.Size + 1 } }),
            "bad digest" => Batch(fresh with { Media = fresh.Media with { Sha256 = "not-hex" } }),
            "bad iv" => Batch(fresh with { Media = fresh.Media with { Iv = "00" } }),
            "unregistered init segment" => Batch(good with { Sequence = 1002, InitObjectName = "init/never-registered.mp4" }),
            "wrapped key not base64" => Batch(fresh) with { WrappedKeys = [new WrappedKeyUpload(fresh.Media.KeyId, "not base64!")] },
            "too many wrapped keys" => Batch(fresh) with { WrappedKeys = [.. Enumerable.Range(0, SegmentBatch.MaxWrappedKeys + 1).Select(_ => new WrappedKeyUpload(Guid.NewGuid(), "AAAA"))] },
            _ => Batch(fresh, fresh),
        };

        var refused = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => setup.Camera.Client.IndexAsync(setup.Camera.Identity, batch, CancellationToken.None));

        Assert.Equal(status, refused.Status);
        Assert.Equal(before, await setup.IndexFingerprintAsync());
    }

    [Fact]
    public async Task Index_SameSegmentAgain_CountedOnceNotStoredTwice()
    {
        var before = await setup.IndexFingerprintAsync();

        var again = await setup.Camera.Client.IndexAsync(setup.Camera.Identity, Batch(setup.Indexed), CancellationToken.None);

        Assert.Equal((0, 1), (again.Indexed, again.AlreadyIndexed));
        Assert.Equal(before, await setup.IndexFingerprintAsync());
    }

    SegmentBatch Batch(params SegmentMetadata[] segments) => new(setup.Camera.CameraId, [], segments);

    /// <summary>A camera with its recording indexed, and another camera of another organisation.</summary>
    public sealed class Setup : IAsyncLifetime
    {
        readonly LocalCloudFixture _stack = new();
        readonly SourceVideoFixture _video = new();
        readonly string _cache = Directory.CreateTempSubdirectory("cloudstore-cache-").FullName;
        StackTenant _tenant = null!;
        StackTenant _other = null!;

        public StackCamera Camera { get; private set; } = null!;

        public Guid OtherCameraId { get; private set; }

        /// <summary>Segment 0 as it was indexed.</summary>
        public SegmentMetadata Indexed { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await _stack.InitializeAsync();
            await _video.InitializeAsync();
            _tenant = await StackTenant.CreateAsync(_stack.Cloud, Regions.UsVirginia);
            Camera = await _tenant.AddCameraAsync();
            using (var uploader = UploadTestKit.Uploader(_stack.Cloud, Camera, _cache))
            {
                await uploader.RunAsync(new VideoSource.Folder(_video.Playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
            }

            _other = await StackTenant.CreateAsync(_stack.Cloud, Regions.UsVirginia);
            OtherCameraId = (await _other.AddCameraAsync()).CameraId;
            var row = (await new RegionInspector(_stack.Cloud, Regions.UsVirginia).SegmentsAsync(Camera.CameraId))[0];
            Indexed = new SegmentMetadata(row.Sequence, row.StartTime, row.DurationMs,
                new StoredObject(row.ObjectName, row.Size, Convert.ToHexStringLower(row.Sha256), row.KeyId, Convert.ToHexStringLower(row.Iv)),
                row.InitObjectName, row.Codec, row.Width, row.Height);
        }

        /// <summary>Every row of the region's index, as one string.</summary>
        public async Task<string> IndexFingerprintAsync()
        {
            await using var index = new RegionInspector(_stack.Cloud, Regions.UsVirginia).Index();
            var segments = index.Segments.OrderBy(s => s.Id).Select(s => $"{s.Id}:{s.CameraId}:{s.Sequence}:{s.ObjectName}:{s.Size}").ToList();
            var inits = index.InitSegments.OrderBy(s => s.ObjectName).Select(s => $"{s.CameraId}:{s.ObjectName}").ToList();
            var keys = index.WrappedKeys.OrderBy(k => k.KeyId).Select(k => $"{k.KeyId}:{k.CameraId}").ToList();
            return string.Join('\n', segments.Concat(inits).Concat(keys));
        }

        public async Task DisposeAsync()
        {
            Camera.Dispose();
            _tenant.Dispose();
            _other.Dispose();
            await _video.DisposeAsync();
            await _stack.DisposeAsync();
            Directory.Delete(_cache, recursive: true);
        }
    }
}

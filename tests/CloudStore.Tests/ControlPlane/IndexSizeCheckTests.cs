using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using CloudStore.Tests.Decommissioning;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// The index's check that each new object is stored with its declared size, against Azurite (account key and Entra ID) and
/// the S3 server: the objects of a batch are listed as one range of names (<see cref="ICameraStorage.ListSizesAsync"/>), what
/// the listing does not find is looked up one by one, and a batch with any object missing or of another size is refused
/// whole, naming the first such object in batch order.
/// </summary>
public sealed class IndexSizeCheckTests(LocalCloudFixture stack) : IClassFixture<LocalCloudFixture>
{
    public static TheoryData<string> StorageKinds => [Regions.EuFrankfurt, Regions.UkLondon, Regions.UsVirginia];

    const string Init = "init/a.mp4";

    /// <summary>More objects than a listing for a batch of two segments may pass (2 + 2 × 2 + 16).</summary>
    const int FarApart = 30;

    static string Segment(long sequence) => $"segments/{sequence:D12}.m4s";

    /// <summary>What <see cref="DecommissionKit.PlantAsync"/> stores under a name: "ciphertext of " and the name.</summary>
    static long PlantedSize(string name) => "ciphertext of ".Length + name.Length;

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task ListSizes_NamesInARange_TheirSizesOnly_StopsPastTooManyOthers(string region)
    {
        await using var host = DecommissionKit.SweepHost(stack);
        var storage = host.Services.GetRequiredService<RegionCatalog>().Storage(region);
        var (camera, neighbour) = (Guid.NewGuid(), Guid.NewGuid());
        await DecommissionKit.PlantAsync(stack, storage, camera, [.. Enumerable.Range(1, 6).Select(i => Segment(i)), Init, "keys/b.key"]);
        await DecommissionKit.PlantAsync(stack, storage, neighbour, [Segment(4), Segment(7)]);

        var found = await storage.ListSizesAsync(camera, [Segment(2), Segment(4), Segment(5)], 10, CancellationToken.None);
        var oneMissing = await storage.ListSizesAsync(camera, [Segment(2), Segment(4), Segment(7)], 10, CancellationToken.None);
        var bounded = await storage.ListSizesAsync(camera, [Segment(2), Segment(5)], 1, CancellationToken.None);
        var noCamera = await storage.ListSizesAsync(Guid.NewGuid(), [Segment(2), Segment(5)], 10, CancellationToken.None);

        Assert.Equal(Sizes(2, 4, 5), Sorted(found));
        Assert.Equal(Sizes(2, 4), Sorted(oneMissing));
        Assert.Equal(Sizes(2), Sorted(bounded)); // the listing passed 3 and stopped at 4 (S3), or passed 1 and stopped at 3 (Azure)
        Assert.Empty(noCamera);
    }

    /// <summary>
    /// Storage down: every size look-up the index makes says so (<see cref="StorageUnavailableException"/>, answered 503 and
    /// retried by the camera), never another exception, which the API would answer 500. Azure's client gives up with an
    /// AggregateException of its attempts' failures.
    /// </summary>
    [Fact]
    public async Task ListSizesAndSize_StorageDown_StorageUnavailable()
    {
        await using var host = DecommissionKit.SweepHost(stack);
        var regions = host.Services.GetRequiredService<RegionCatalog>();
        await stack.Cloud.StopStorageAsync();
        try
        {
            // Azurite is what the stack stops (the S3 server stays up); each call takes the client's retries, so one each.
            await Assert.ThrowsAsync<StorageUnavailableException>(() =>
                regions.Storage(Regions.EuFrankfurt).ListSizesAsync(Guid.NewGuid(), [Segment(1), Segment(2)], 10, CancellationToken.None));
            await Assert.ThrowsAsync<StorageUnavailableException>(() => regions.Storage(Regions.UkLondon).SizeAsync(Guid.NewGuid(), Segment(1), CancellationToken.None));
        }
        finally
        {
            await stack.Cloud.StartStorageAsync(CancellationToken.None);
        }
    }

    static SortedDictionary<string, long> Sizes(params int[] sequences) => new(sequences.ToDictionary(i => Segment(i), i => PlantedSize(Segment(i))), StringComparer.Ordinal);

    static SortedDictionary<string, long> Sorted(IReadOnlyDictionary<string, long> sizes) => new(sizes.ToDictionary(), StringComparer.Ordinal);

    public static TheoryData<string, string> Flaws()
    {
        var data = new TheoryData<string, string>();
        foreach (var region in StorageKinds)
        {
            foreach (var flaw in new[] { "one missing", "one of another size", "two wrong", "far apart, the last of another size", "far apart, the first missing" })
            {
                data.Add(region, flaw);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Flaws))]
    public async Task Index_ObjectNotAsDeclared_RefusedNamingTheFirst_NothingStored(string region, string flaw)
    {
        await using var host = DecommissionKit.SweepHost(stack);
        var storage = host.Services.GetRequiredService<RegionCatalog>().Storage(region);
        var camera = Guid.NewGuid();
        var farApart = flaw.StartsWith("far apart", StringComparison.Ordinal);
        long[] sequences = farApart ? [1, FarApart + 2] : [.. Enumerable.Range(1, 8).Select(i => (long)i)];
        var stored = sequences.Select(Segment).Append(Init).ToList();
        if (farApart)
        {
            stored.AddRange(Enumerable.Range(2, FarApart).Select(i => Segment(i)));
        }

        (string? Missing, string? Resized, string Reported) wrong = flaw switch
        {
            "one missing" => (Segment(4), null, Segment(4)),
            "one of another size" => (null, Segment(6), Segment(6)),
            "two wrong" => (Segment(3), Segment(7), Segment(7)), // the batch lists 8 down to 1: 7 comes first
            "far apart, the last of another size" => (null, Segment(FarApart + 2), Segment(FarApart + 2)),
            _ => (Segment(1), null, Segment(1)),
        };
        await DecommissionKit.PlantAsync(stack, storage, camera, [.. stored.Where(n => n != wrong.Missing)]);
        var batch = Batch(region, camera, flaw == "two wrong" ? sequences.Reverse() : sequences, wrong.Resized);

        var (indexed, refused) = await host.Services.GetRequiredService<RecordingIndex>().IndexAsync(Organization, camera, region, batch, CancellationToken.None);

        Assert.Null(indexed);
        Assert.Equal(new IndexRefusal(400, "Object not stored as declared", $"{wrong.Reported} is missing from the camera's storage or has another size."), refused);
        Assert.Equal((0, 0, 0), await RowsAsync(region, camera));
    }

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task Index_AllStored_NearOrFarApart_Indexed(string region)
    {
        await using var host = DecommissionKit.SweepHost(stack);
        var storage = host.Services.GetRequiredService<RegionCatalog>().Storage(region);
        var index = host.Services.GetRequiredService<RecordingIndex>();
        var (near, far) = (Guid.NewGuid(), Guid.NewGuid());
        long[] nearSequences = [.. Enumerable.Range(1, 8).Select(i => (long)i)];
        long[] farSequences = [1, FarApart + 2];
        await DecommissionKit.PlantAsync(stack, storage, near, [.. nearSequences.Select(Segment), Init]);
        await DecommissionKit.PlantAsync(stack, storage, far, [.. Enumerable.Range(1, FarApart + 2).Select(i => Segment(i)), Init]);

        var nearResult = await index.IndexAsync(Organization, near, region, Batch(region, near, nearSequences), CancellationToken.None);
        var farResult = await index.IndexAsync(Organization, far, region, Batch(region, far, farSequences), CancellationToken.None);

        Assert.Equal((new SegmentBatchResponse(9, 0), null), (nearResult.Indexed, nearResult.Refused?.Title));
        Assert.Equal((new SegmentBatchResponse(3, 0), null), (farResult.Indexed, farResult.Refused?.Title));
        Assert.Equal((8, 1, 1), await RowsAsync(region, near));
        Assert.Equal((2, 1, 1), await RowsAsync(region, far));
    }

    static readonly Guid Organization = Guid.NewGuid();

    /// <summary>
    /// The init segment and the segments of <paramref name="sequences"/> (in that order), each declared with its planted size
    /// but <paramref name="resized"/>'s one byte larger, and the data key's wrapped form: named for the organisation's key in
    /// the region (the index reads only that name; its ciphertext is never unwrapped here).
    /// </summary>
    static SegmentBatch Batch(string region, Guid camera, IEnumerable<long> sequences, string? resized = null)
    {
        var key = Guid.NewGuid();
        StoredObject Declared(string name) => new(name, PlantedSize(name) + (name == resized ? 1 : 0), new string('a', 64), key, new string('b', 32));
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var wrapped = new WrappedKey(new KeyEncryptionKeyId(region, Organization, 1).ToString(), new byte[256]).ToBytes();
        return new SegmentBatch(camera, [Declared(Init)],
            [.. sequences.Select(s => new SegmentMetadata(s, start.AddSeconds(4 * s), 4000, Declared(Segment(s)), Init, "avc1.64001f", 1280, 720))],
            [new WrappedKeyUpload(key, Convert.ToBase64String(wrapped))]);
    }

    /// <summary>The camera's segments, init segments and wrapped keys in the region's index.</summary>
    async Task<(int Segments, int Inits, int Keys)> RowsAsync(string region, Guid camera)
    {
        await using var index = new RegionInspector(stack.Cloud, region).Index();
        return (await index.Segments.CountAsync(s => s.CameraId == camera), await index.InitSegments.CountAsync(i => i.CameraId == camera),
            await index.WrappedKeys.CountAsync(k => k.CameraId == camera));
    }
}

using CloudStore.Contracts;
using CloudStore.ControlPlane.Regional;
using CloudStore.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.Decommissioning;

/// <summary>
/// Emptying a camera's storage (<see cref="ICameraStorage.DeleteAllAsync"/>) against Azurite (account key and Entra ID)
/// and the S3 server: objects are found by listing, so uploads that were never indexed go too, a page at a time.
/// </summary>
public sealed class StorageDeletionTests(LocalCloudFixture stack) : IClassFixture<LocalCloudFixture>
{
    public static TheoryData<string> StorageKinds => [Regions.EuFrankfurt, Regions.UkLondon, Regions.UsVirginia];

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task DeleteAll_ObjectsNeverIndexed_GoneAPageAtATime_AnotherCameraKept(string region)
    {
        await using var host = DecommissionKit.SweepHost(stack);
        var storage = host.Services.GetRequiredService<RegionCatalog>().Storage(region);
        var inspector = new RegionInspector(stack.Cloud, region);
        var (doomed, neighbour) = (Guid.NewGuid(), Guid.NewGuid());
        string[] names = ["segments/000000000001.m4s", "segments/000000000002.m4s", "init/a.mp4", "keys/b.key", "odd/name with space.bin"];
        await DecommissionKit.PlantAsync(stack, storage, doomed, names);
        await DecommissionKit.PlantAsync(stack, storage, neighbour, names[..1]);
        Assert.Equal(names.Order(StringComparer.Ordinal), (await inspector.BlobsAsync(doomed)).Keys);

        var first = await storage.DeleteAllAsync(doomed, 2, CancellationToken.None);
        var remaining = (await inspector.BlobsAsync(doomed)).Count;
        var second = await storage.DeleteAllAsync(doomed, 100, CancellationToken.None);
        var third = await storage.DeleteAllAsync(doomed, 100, CancellationToken.None);

        Assert.Equal(2, first);
        Assert.Equal(names.Length - 2, remaining);
        Assert.Equal(names.Length - 2, second);
        Assert.Equal(0, third);
        Assert.Empty(await inspector.BlobsAsync(doomed));
        if (!inspector.IsS3)
        {
            Assert.False(await inspector.HasAnythingOfAsync(doomed), "the camera's container is left");
        }

        Assert.Equal([names[0]], (await inspector.BlobsAsync(neighbour)).Keys);
        Assert.Equal(0, await storage.DeleteAllAsync(Guid.NewGuid(), 10, CancellationToken.None));
    }
}

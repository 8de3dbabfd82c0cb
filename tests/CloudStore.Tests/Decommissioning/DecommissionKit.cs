using System.Net.Http.Headers;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using CloudStore.ControlPlane.Retention;
using CloudStore.Device.Media;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.Decommissioning;

/// <summary>What the decommissioning tests on the real stack share.</summary>
public static class DecommissionKit
{
    /// <summary>The control plane in process on the stack's configuration (directory, indexes, storage, key server), its clock movable.</summary>
    public static FunctionsFactory SweepHost(LocalCloudFixture stack, params (string Key, string Value)[] settings)
    {
        var factory = new FunctionsFactory();
        foreach (var (key, value) in stack.Cloud.FunctionsSettings())
        {
            factory.With(key.Replace("__", ":", StringComparison.Ordinal), value);
        }

        foreach (var (key, value) in settings)
        {
            factory.With(key, value);
        }

        return factory.With("Tls:CaCertificateFile", stack.Cloud.Certificates.CaCertificate);
    }

    /// <summary>
    /// Objects a camera uploaded but never indexed (a device that crashed in between): written with the camera's
    /// own create-only grant, as the camera writes them.
    /// </summary>
    public static async Task PlantAsync(LocalCloudFixture stack, ICameraStorage storage, Guid cameraId, IReadOnlyList<string> names)
    {
        var now = TimeProvider.System.GetUtcNow();
        var grant = await storage.GrantAsync(cameraId, names, now, now.AddMinutes(15), CancellationToken.None);
        using var http = new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate));
        foreach (var name in names)
        {
            using var request = grant.Kind == CredentialsResponse.S3
                ? new HttpRequestMessage(HttpMethod.Put, grant.PutUrls![name])
                : new HttpRequestMessage(HttpMethod.Put, $"{grant.ContainerUrl}/{Uri.EscapeDataString(name).Replace("%2F", "/", StringComparison.Ordinal)}?{grant.SasToken}");
            request.Content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes("ciphertext of " + name));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            if (grant.Kind == CredentialsResponse.S3)
            {
                request.Headers.TryAddWithoutValidation(S3CameraStorage.CreateOnlyHeader, "*");
            }
            else
            {
                request.Headers.Add("x-ms-blob-type", "BlockBlob");
            }

            using var response = await http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>An organisation homed in <paramref name="region"/> whose one camera has uploaded and indexed the whole source video.</summary>
    public static async Task<(StackTenant Tenant, StackCamera Camera, List<SegmentRow> Rows)> RecordAsync(
        LocalCloudFixture stack, SourceVideoFixture video, string work, string region)
    {
        var tenant = await StackTenant.CreateAsync(stack.Cloud, region);
        var camera = await tenant.AddCameraAsync();
        using (var uploader = UploadTestKit.Uploader(stack.Cloud, camera, Path.Combine(work, camera.CameraId.ToString("N"))))
        {
            await uploader.RunAsync(new VideoSource.Folder(video.Playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }

        var rows = await new RegionInspector(stack.Cloud, region).SegmentsAsync(camera.CameraId);
        Assert.Equal(video.Segments.Count, rows.Count);
        return (tenant, camera, rows);
    }

    /// <summary>One hourly sweep, as the timer runs it, on the host's clock.</summary>
    public static async Task<RetentionSweep.Result> SweepAsync(FunctionsFactory host)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RetentionSweep>().RunAsync(CancellationToken.None);
    }
}

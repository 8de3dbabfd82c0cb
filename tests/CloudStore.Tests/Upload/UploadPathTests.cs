using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.Device;
using CloudStore.Device.Media;
using CloudStore.Device.Upload;
using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Upload;

/// <summary>Steps C, D and E on the real stack: a camera's real H.264 segments, encrypted, uploaded to Azurite over HTTPS, indexed.</summary>
public sealed class UploadPathTests(LocalCloudFixture stack, SourceVideoFixture video)
    : IClassFixture<LocalCloudFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    readonly string _cache = Directory.CreateTempSubdirectory("cloudstore-cache-").FullName;

    /// <summary>
    /// The three kinds of storage grant: Frankfurt in Azure with an account key (service SAS), London in
    /// Azure with an Entra ID identity (user-delegation SAS), N. Virginia in S3 (presigned PUT URLs).
    /// </summary>
    public static TheoryData<string> StorageKinds => [Regions.EuFrankfurt, Regions.UkLondon, Regions.UsVirginia];

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task Upload_RealSegments_AllIndexed_StoredAsCiphertextThatDecryptsToTheOriginalBytes(string region)
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, region);
        using var camera = await tenant.AddCameraAsync();
        using var uploader = Uploader(camera);

        await uploader.RunAsync(new VideoSource.Folder(video.Playlist), Timeout());

        var frankfurt = new RegionInspector(stack.Cloud, region);
        var rows = await frankfurt.SegmentsAsync(camera.CameraId);
        Assert.Equal(video.Segments.Count, uploader.Stats.Indexed);
        Assert.Equal(Enumerable.Range(0, video.Segments.Count).Select(i => (long)i), rows.Select(r => r.Sequence));
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var stored = await frankfurt.DownloadAsync(camera.CameraId, row.ObjectName);
            Assert.False(Fmp4Info.LooksLikeMp4(stored), $"{row.ObjectName} is stored in the clear");
            Assert.Equal(row.Sha256, SHA256.HashData(stored));
            var binding = await frankfurt.UnwrapAsync(camera.CameraId, row.KeyId);
            Assert.Equal((tenant.OrganizationId, camera.CameraId, row.KeyId), (binding.OrganizationId, binding.CameraId, binding.DataKeyId));
            Assert.Equal(await File.ReadAllBytesAsync(video.Segments[i].SegmentPath), SegmentCipher.Decrypt(stored, binding.Key, row.Iv));
            Assert.Equal(video.Segments[i].StartTime, row.StartTime, TimeSpan.FromMilliseconds(1));
            Assert.StartsWith("avc1.", row.Codec, StringComparison.Ordinal);
            Assert.Equal((640, 360), (row.Width, row.Height));
        }

        await using var index = frankfurt.Index();
        var init = index.InitSegments.Single(s => s.CameraId == camera.CameraId);
        var initBinding = await frankfurt.UnwrapAsync(camera.CameraId, init.KeyId);
        var initPlain = SegmentCipher.Decrypt(await frankfurt.DownloadAsync(camera.CameraId, init.ObjectName), initBinding.Key, init.Iv);
        Assert.Equal(await File.ReadAllBytesAsync(video.Segments[0].InitPath), initPlain);
    }

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task Upload_OrganisationHomedInARegion_LeavesNothingInAnyOtherRegion(string home)
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, home);
        using var camera = await tenant.AddCameraAsync();
        using var uploader = Uploader(camera);

        await uploader.RunAsync(new VideoSource.Folder(video.Playlist), Timeout());

        Assert.NotEmpty(await new RegionInspector(stack.Cloud, home).BlobsAsync(camera.CameraId));
        Assert.True(new RegionInspector(stack.Cloud, home).HasKeysOf(tenant.OrganizationId));
        foreach (var region in Regions.All.Where(r => r != home))
        {
            var inspector = new RegionInspector(stack.Cloud, region);
            Assert.False(await inspector.HasAnythingOfAsync(camera.CameraId), region);

            await using var index = inspector.Index();
            Assert.False(index.Segments.Any(s => s.OrganizationId == tenant.OrganizationId), region);
            Assert.False(index.InitSegments.Any(s => s.OrganizationId == tenant.OrganizationId), region);
            Assert.False(index.WrappedKeys.Any(k => k.OrganizationId == tenant.OrganizationId), region);
            Assert.False(inspector.HasKeysOf(tenant.OrganizationId), region);
        }
    }

    [Fact]
    public async Task Grant_IsCreateOnlyForItsOwnCamera_EverythingElseRefusedAndNothingChanged()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.UkLondon);
        using var cameraA = await tenant.AddCameraAsync();
        using var cameraB = await tenant.AddCameraAsync();
        using (var uploader = Uploader(cameraB))
        {
            await uploader.RunAsync(new VideoSource.Folder(video.Playlist), Timeout());
        }

        var grantA = await cameraA.Client.CredentialsAsync(cameraA.Identity, cameraA.CameraId, CancellationToken.None);
        var grantB = await cameraB.Client.CredentialsAsync(cameraB.Identity, cameraB.CameraId, CancellationToken.None);
        Assert.Contains("skoid=", grantA.SasToken, StringComparison.Ordinal); // London's grants are user-delegation SAS.
        using var first = await Put(grantA.ContainerUrl!, "segments/000000000000.m4s", grantA.SasToken!, [1, 2, 3]);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var london = new RegionInspector(stack.Cloud, Regions.UkLondon);
        var before = await FingerprintAsync(london, cameraA.CameraId, cameraB.CameraId);
        var existingB = (await london.BlobsAsync(cameraB.CameraId)).Keys.First();
        var bContainer = grantB.ContainerUrl!;

        var attempts = new Dictionary<string, HttpResponseMessage>
        {
            ["write under camera B"] = await Put(bContainer, "segments/planted.m4s", grantA.SasToken!, [9]),
            ["read"] = await Send(HttpMethod.Get, $"{grantA.ContainerUrl}/segments/000000000000.m4s?{grantA.SasToken}"),
            ["read camera B"] = await Send(HttpMethod.Get, $"{bContainer}/{existingB}?{grantA.SasToken}"),
            ["list"] = await Send(HttpMethod.Get, $"{grantA.ContainerUrl}?restype=container&comp=list&{grantA.SasToken}"),
            ["delete"] = await Send(HttpMethod.Delete, $"{grantA.ContainerUrl}/segments/000000000000.m4s?{grantA.SasToken}"),
            ["overwrite"] = await Put(grantA.ContainerUrl!, "segments/000000000000.m4s", grantA.SasToken!, [4, 5, 6]),
            ["tampered permissions"] = await Put(grantA.ContainerUrl!, "segments/000000000001.m4s", grantA.SasToken!.Replace("sp=c", "sp=racwdl", StringComparison.Ordinal), [7]),
            ["tampered expiry"] = await Put(grantA.ContainerUrl!, "segments/000000000001.m4s", WithLaterExpiry(grantA.SasToken!), [7]),
            ["expired"] = await Put(grantA.ContainerUrl!, "segments/000000000001.m4s", await ExpiredGrantAsync(cameraA.CameraId), [7]),
        };

        foreach (var (attempt, response) in attempts)
        {
            Assert.True(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Conflict, $"{attempt}: {(int)response.StatusCode}");
            response.Dispose();
        }

        Assert.Equal(before, await FingerprintAsync(london, cameraA.CameraId, cameraB.CameraId));
        Assert.Equal([1, 2, 3], await london.DownloadAsync(cameraA.CameraId, "segments/000000000000.m4s"));
    }

    [Fact]
    public async Task S3Grant_IsCreateOnlyForItsOwnObjects_EverythingElseRefusedAndNothingChanged()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.UsVirginia);
        using var cameraA = await tenant.AddCameraAsync();
        using var cameraB = await tenant.AddCameraAsync();
        using (var uploader = Uploader(cameraB))
        {
            await uploader.RunAsync(new VideoSource.Folder(video.Playlist), Timeout());
        }

        string[] names = ["segments/000000000000.m4s", "segments/000000000001.m4s"];
        var grant = await cameraA.Client.CredentialsAsync(cameraA.Identity, cameraA.CameraId, CancellationToken.None, names);
        var url = grant.PutUrls![names[0]];
        using var first = await S3Put(url, [1, 2, 3]);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var virginia = new RegionInspector(stack.Cloud, Regions.UsVirginia);
        var before = await FingerprintAsync(virginia, cameraA.CameraId, cameraB.CameraId);
        var other = grant.PutUrls[names[1]];

        var attempts = new Dictionary<string, HttpResponseMessage>
        {
            ["write under camera B"] = await S3Put(url.Replace($"cam-{cameraA.CameraId:N}", $"cam-{cameraB.CameraId:N}", StringComparison.Ordinal), [9]),
            ["read"] = await Send(HttpMethod.Get, url),
            ["list"] = await Send(HttpMethod.Get, url[..url.IndexOf("/cam-", StringComparison.Ordinal)] + "?list-type=2&prefix=cam-&" + url[(url.IndexOf('?', StringComparison.Ordinal) + 1)..]),
            ["delete"] = await Send(HttpMethod.Delete, url),
            ["overwrite"] = await S3Put(url, [4, 5, 6]),
            ["overwrite without the create-only condition"] = await S3Put(url, [4, 5, 6], createOnly: false),
            ["another name with this URL's signature"] = await S3Put(url.Replace("000000000000", "000000000099", StringComparison.Ordinal), [7]),
            ["tampered expiry"] = await S3Put(Regex.Replace(other, "X-Amz-Expires=[0-9]+", "X-Amz-Expires=604000"), [7]),
            ["condition dropped from the signature"] = await S3Put(other.Replace("X-Amz-SignedHeaders=host%3Bif-none-match", "X-Amz-SignedHeaders=host", StringComparison.Ordinal), [7], createOnly: false),
            ["anonymous"] = await S3Put(other[..other.IndexOf('?', StringComparison.Ordinal)], [7], createOnly: false),
            ["expired"] = await S3Put(await ExpiredS3UrlAsync(cameraA.CameraId, names[1]), [7]),
        };

        foreach (var (attempt, response) in attempts)
        {
            // A signature that does not cover the request is 403; a create over an existing object is 412.
            var expected = attempt == "overwrite" ? HttpStatusCode.PreconditionFailed : HttpStatusCode.Forbidden;
            Assert.True(response.StatusCode == expected, $"{attempt}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            response.Dispose();
        }

        Assert.Equal(before, await FingerprintAsync(virginia, cameraA.CameraId, cameraB.CameraId));
        Assert.Equal([1, 2, 3], await virginia.DownloadAsync(cameraA.CameraId, names[0]));
    }

    [Fact]
    public async Task Grant_LastsAtMostFifteenMinutes_AndTheRenewalAfterRevocationDisablingOrSubscriptionEnd_IsRefused()
    {
        // A grant cannot be taken back: its lifetime is how long a revoked device, a disabled camera or an ended
        // subscription can still upload. Each renewal asks again, and the answer then is no.
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        using var toRevoke = await tenant.AddCameraAsync();
        using var toDisable = await tenant.AddCameraAsync();
        using var toEnd = await tenant.AddCameraAsync();
        var before = TimeProvider.System.GetUtcNow();
        var grants = new List<CredentialsResponse>();
        foreach (var camera in new[] { toRevoke, toDisable, toEnd })
        {
            grants.Add(await camera.Client.CredentialsAsync(camera.Identity, camera.CameraId, CancellationToken.None));
        }

        var after = TimeProvider.System.GetUtcNow();
        (await tenant.Administrator.PostAsync($"/api/devices/{toRevoke.Identity.DeviceId}/revoke", null)).EnsureSuccessStatusCode();
        (await tenant.Administrator.PostAsync($"/api/cameras/{toDisable.CameraId}/disable", null)).EnsureSuccessStatusCode();
        await CloudStore.LocalStack.Demo.RunFunctionsCommandAsync(stack.Cloud, ["subscription", "--organization", tenant.OrganizationId.ToString(), "--ends", "2020-01-01T00:00:00Z"], CancellationToken.None);
        var revoked = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => toRevoke.Client.CredentialsAsync(toRevoke.Identity, toRevoke.CameraId, CancellationToken.None));
        var disabled = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => toDisable.Client.CredentialsAsync(toDisable.Identity, toDisable.CameraId, CancellationToken.None));
        var ended = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => toEnd.Client.CredentialsAsync(toEnd.Identity, toEnd.CameraId, CancellationToken.None));

        Assert.All(grants, grant =>
        {
            Assert.InRange(grant.ExpiresAt, before, after + TimeSpan.FromMinutes(15));
            Assert.InRange(grant.RenewAt, before, after + TimeSpan.FromMinutes(12)); // renewed at 80 %: 3 minutes before expiry
            Assert.InRange(grant.ExpiresAt - grant.RenewAt, TimeSpan.FromMinutes(2.9), TimeSpan.FromMinutes(3.1));
        });
        Assert.Equal((403, 403, 403), (revoked.Status, disabled.Status, ended.Status));
        Assert.Contains("revoked", revoked.Message, StringComparison.Ordinal);
        Assert.Contains("not enabled", disabled.Message, StringComparison.Ordinal);
        Assert.Contains("subscription", ended.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grant_DisabledCameraEndedSubscriptionOrRevokedDevice_NoGrantWithAClearReason()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.CanadaToronto);
        using var disabled = await tenant.AddCameraAsync(enable: false);
        using var revoked = await tenant.AddCameraAsync();
        using var healthy = await tenant.AddCameraAsync();

        var disabledRefusal = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => disabled.Client.CredentialsAsync(disabled.Identity, disabled.CameraId, CancellationToken.None));
        (await tenant.Administrator.PostAsync($"/api/devices/{revoked.Identity.DeviceId}/revoke", null)).EnsureSuccessStatusCode();
        var revokedRefusal = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => revoked.Client.CredentialsAsync(revoked.Identity, revoked.CameraId, CancellationToken.None));
        var beforeEnd = await healthy.Client.CredentialsAsync(healthy.Identity, healthy.CameraId, CancellationToken.None);
        await CloudStore.LocalStack.Demo.RunFunctionsCommandAsync(stack.Cloud, ["subscription", "--organization", tenant.OrganizationId.ToString(), "--ends", "2020-01-01T00:00:00Z"], CancellationToken.None);
        var endedRefusal = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => healthy.Client.CredentialsAsync(healthy.Identity, healthy.CameraId, CancellationToken.None));

        Assert.Equal(403, disabledRefusal.Status);
        Assert.Contains("not enabled", disabledRefusal.Message, StringComparison.Ordinal);
        Assert.Equal(403, revokedRefusal.Status);
        Assert.Contains("revoked", revokedRefusal.Message, StringComparison.Ordinal);
        Assert.Contains("sp=c", beforeEnd.SasToken, StringComparison.Ordinal); // The same camera had a grant before the subscription ended.
        Assert.Equal(403, endedRefusal.Status);
        Assert.Contains("subscription", endedRefusal.Message, StringComparison.Ordinal);
        var audit = await tenant.Administrator.GetFromJsonAsync<List<AuditEntryResponse>>("/api/audit?action=credentials.issued");
        Assert.Contains(audit!, e => e.Outcome == "failure:camera-disabled" && e.Target == $"camera:{disabled.CameraId}");
        Assert.Contains(audit!, e => e.Outcome == "failure:subscription-ended" && e.Target == $"camera:{healthy.CameraId}");
        Assert.Contains(audit!, e => e.Outcome.StartsWith("success:region=ca-toronto", StringComparison.Ordinal) && e.Actor == $"device:{healthy.Identity.DeviceId}");
        Assert.DoesNotContain(audit!, e => e.Outcome.Contains("sig=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Upload_AnHourPasses_GrantRenewedBeforeExpiry_DataKeyRotated_NothingLostOrDoubled()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        using var camera = await tenant.AddCameraAsync();
        var clock = new TestClock();
        using var uploader = new CameraUploader(camera.Client, camera.Identity, new UploaderOptions
        {
            CameraId = camera.CameraId,
            CacheFolder = Path.Combine(_cache, "clock"),
            SegmentLength = SourceVideoFixture.SegmentLength,
            BackoffBase = TimeSpan.FromMilliseconds(200),
        }, TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate), clock);
        var running = uploader.RunAsync(new VideoSource.Generated(Duration: TimeSpan.FromSeconds(8)), Timeout());

        await UploadTestKit.WaitUntilAsync(() => uploader.Stats.Indexed >= 1, "the first segment indexed", running);
        clock.Advance(TimeSpan.FromMinutes(61));
        await running;

        var rows = await new RegionInspector(stack.Cloud, Regions.EuFrankfurt).SegmentsAsync(camera.CameraId);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => (long)i), rows.Select(r => r.Sequence));
        Assert.True(rows.Select(r => r.KeyId).Distinct().Count() >= 2, "the data key was not rotated after an hour");
        var grants = await tenant.Administrator.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action=credentials.issued&actor=device:{camera.Identity.DeviceId}");
        Assert.True(grants!.Count(g => g.Outcome.StartsWith("success", StringComparison.Ordinal)) >= 2, "the grant was not renewed");
    }

    [Fact]
    public async Task CameraCli_Run_UploadsAFolderOfSegmentsAndExits()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var serial = "CLI" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant();
        var created = await (await tenant.Administrator.PostAsJsonAsync("/api/devices", new CreateDeviceRequest(serial, "AXIS M3086-V"))).Content.ReadFromJsonAsync<EnrolmentCodeResponse>();
        var camera = await (await tenant.Administrator.PostAsJsonAsync($"/api/devices/{created!.DeviceId}/cameras", new CreateCameraRequest("Gate", 1))).Content.ReadFromJsonAsync<CameraResponse>();
        var keyFile = Path.Combine(_cache, "cli-key.pem");
        string[] common = ["--api", new Uri(stack.Cloud.FunctionsUrl, "/api").ToString(), "--ca", stack.Cloud.Certificates.CaCertificate, "--key", keyFile];

        // Enrolling signs in once, which reports the firmware that enabling checks.
        var enrol = await Cli.RunCameraAsync(["enrol", .. common, "--code", created.EnrolmentCode, "--serial", serial]);
        (await tenant.Administrator.PostAsync($"/api/cameras/{camera!.Id}/enable", null)).EnsureSuccessStatusCode();
        var run = await Cli.RunCameraAsync(["run", .. common, "--camera", camera.Id.ToString(), "--source", "folder:" + video.Playlist, "--cache", Path.Combine(_cache, "cli")]);

        Assert.Equal(0, enrol.ExitCode);
        Assert.True(run.ExitCode == 0, run.Output);
        var rows = await new RegionInspector(stack.Cloud, Regions.EuFrankfurt).SegmentsAsync(camera.Id);
        Assert.Equal(video.Segments.Count, rows.Count);
    }

    CameraUploader Uploader(StackCamera camera) =>
        UploadTestKit.Uploader(stack.Cloud, camera, Path.Combine(_cache, camera.CameraId.ToString("N")));

    /// <summary>Every blob name and ETag of the cameras, as one comparable string.</summary>
    static async Task<string> FingerprintAsync(RegionInspector region, params Guid[] cameras)
    {
        var lines = new List<string>();
        foreach (var camera in cameras)
        {
            lines.AddRange((await region.BlobsAsync(camera)).Select(b => $"{camera:N}/{b.Key}={b.Value}"));
        }

        return string.Join('\n', lines);
    }

    /// <summary>A grant as the control plane makes it, but issued two hours ago for one hour.</summary>
    async Task<string> ExpiredGrantAsync(Guid cameraId)
    {
        var storage = CloudStore.ControlPlane.Regional.AzureCameraStorage.Create(
            new CloudStore.ControlPlane.Regional.RegionStorageOptions { ConnectionString = stack.Cloud.Azurite.Account(Regions.UkLondon).ConnectionString },
            stack.Cloud.Certificates.CaCertificate);
        var past = TimeProvider.System.GetUtcNow().AddHours(-2);
        return (await storage.GrantCreateOnlyAsync(cameraId, past, past.AddHours(1), CancellationToken.None)).SasToken!;
    }

    /// <summary>A presigned URL as the control plane makes it, but expired an hour ago.</summary>
    async Task<string> ExpiredS3UrlAsync(Guid cameraId, string name)
    {
        var storage = CloudStore.ControlPlane.Regional.S3CameraStorage.Create(new CloudStore.ControlPlane.Regional.RegionStorageOptions
        {
            Kind = CredentialsResponse.S3,
            ServiceUrl = stack.Cloud.S3.Url.ToString(),
            Bucket = CloudStore.LocalStack.S3Server.BucketName(Regions.UsVirginia),
            AccessKeyId = CloudStore.LocalStack.S3Server.AccessKeyId,
            SecretAccessKey = CloudStore.LocalStack.S3Server.SecretAccessKey,
        }, stack.Cloud.Certificates.CaCertificate);
        var past = TimeProvider.System.GetUtcNow().AddHours(-2);
        return (await storage.GrantAsync(cameraId, [name], past, past.AddHours(1), CancellationToken.None)).PutUrls![name];
    }

    async Task<HttpResponseMessage> S3Put(string url, byte[] body, bool createOnly = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(body) };
        if (createOnly)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        }

        return await Http().SendAsync(request);
    }

    static string WithLaterExpiry(string sas)
    {
        var parts = sas.Split('&').Select(p => p.StartsWith("se=", StringComparison.Ordinal) ? "se=" + Uri.EscapeDataString(TimeProvider.System.GetUtcNow().AddDays(30).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture)) : p);
        return string.Join('&', parts);
    }

    async Task<HttpResponseMessage> Put(string container, string name, string sas, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"{container}/{name}?{sas}") { Content = new ByteArrayContent(body) };
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        request.Headers.Add("x-ms-version", "2021-08-06");
        return await Http().SendAsync(request);
    }

    async Task<HttpResponseMessage> Send(HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.Add("x-ms-version", "2021-08-06");
        return await Http().SendAsync(request);
    }

    HttpClient Http() => _http ??= new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate));

    HttpClient? _http;

    static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token;

    public void Dispose()
    {
        _http?.Dispose();
        Directory.Delete(_cache, recursive: true);
    }
}

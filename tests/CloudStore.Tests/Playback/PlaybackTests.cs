using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.Device.Media;
using CloudStore.ControlPlane.Recordings;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Xunit;

namespace CloudStore.Tests.Playback;

/// <summary>Steps H and I on the real stack: timeline, playlist, read URLs straight to storage, key unwrap by the key server.</summary>
public sealed class PlaybackTests(LocalCloudFixture stack, SourceVideoFixture video)
    : IClassFixture<LocalCloudFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    readonly string _work = Directory.CreateTempSubdirectory("cloudstore-playback-").FullName;

    public static TheoryData<string> StorageKinds => [Regions.EuFrankfurt, Regions.UkLondon, Regions.UsVirginia];

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task Playlist_PlayedByFfmpeg_DecodesToExactlyTheSourceFrames(string region)
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, region);
        var (cameraId, from, to) = await RecordAsync(tenant);
        var playlist = await tenant.Administrator.GetStringAsync(PlaylistUrl(cameraId, from, to));
        var keyServerToken = await KeyServerTokenAsync(tenant);

        // As the web player does: fetch each data key from the key server with the user's token, at the key tags' URI
        // with the wrapped key from the playlist's tag for that key. ffmpeg then reads the keys locally; segments come
        // straight from storage with no token at all.
        var keys = PlaylistKeys.Of(playlist);
        var local = playlist;
        foreach (var key in keys)
        {
            var file = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".key");
            await File.WriteAllBytesAsync(file, await UnwrapAsync(key.RequestUrl, keyServerToken));
            local = local.Replace(key.Uri, file, StringComparison.Ordinal);
        }

        var playlistFile = Path.Combine(_work, "playlist.m3u8");
        await File.WriteAllTextAsync(playlistFile, local);

        Assert.Equal(video.Segments.Count, Regex.Count(playlist, "#EXTINF:"));
        // Each key tag names only the key's address; each data key's wrapped form is in the playlist once, in its tag.
        Assert.NotEmpty(keys);
        Assert.Equal(keys.Select(k => k.Uri).Distinct(), PlaylistKeys.KeyTagUris(playlist).Distinct());
        Assert.All(PlaylistKeys.KeyTagUris(playlist), uri => Assert.Matches($"^{Regex.Escape(stack.Cloud.KeyServerUrl.ToString().TrimEnd('/'))}/v1/keys/[0-9a-f]{{32}}$", uri));
        Assert.All(keys, k => Assert.Equal(1, Regex.Count(playlist, Regex.Escape(k.Wrapped))));
        Assert.All(keys, k => Assert.Null(k.Grant));
        Assert.DoesNotContain("wrapped=", playlist, StringComparison.Ordinal);
        Assert.DoesNotContain("Bearer", playlist, StringComparison.Ordinal);
        Assert.Contains("#EXT-X-ENDLIST", playlist, StringComparison.Ordinal);
        Assert.Equal(await Frames.HashesAsync(video.Playlist), await Frames.HashesAsync(playlistFile));
    }

    [Fact]
    public async Task Playlist_EachFilesDigest_IsTheSha256OfItsBytesAsStorageServesThem()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var (cameraId, from, to) = await RecordAsync(tenant);
        var lines = (await tenant.Administrator.GetStringAsync(PlaylistUrl(cameraId, from, to))).Split('\n');
        using var storage = stack.Client(stack.Cloud.FunctionsUrl);

        // Each digest tag names the file right after it: the init segment of the next EXT-X-MAP, or the media segment
        // after the next EXTINF. The player fetches exactly these URLs, and checks exactly these bytes.
        var files = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith(HlsPlaylist.DigestTag, StringComparison.Ordinal))
            {
                continue;
            }

            var url = lines[i + 1].StartsWith("#EXT-X-MAP:URI=\"", StringComparison.Ordinal) ? lines[i + 1]["#EXT-X-MAP:URI=\"".Length..^1] : lines[i + 2];
            var bytes = await storage.GetByteArrayAsync(new Uri(url));
            Assert.Equal(lines[i][HlsPlaylist.DigestTag.Length..], System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.SHA256.HashData(bytes)));
            files++;
        }

        Assert.Equal(video.Segments.Count + 1, files);
    }

    [Fact]
    public async Task Timeline_ShowsTheRecordedSpanAndTheGapsAroundIt()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var (cameraId, from, to) = await RecordAsync(tenant);

        var timeline = await tenant.Administrator.GetFromJsonAsync<TimelineResponse>(
            $"/api/cameras/{cameraId}/timeline?from={Iso(from.AddMinutes(-1))}&to={Iso(to.AddMinutes(1))}");

        var span = Assert.Single(timeline!.Spans);
        Assert.Equal(video.Segments.Count, span.Segments);
        Assert.Equal(from, span.Start, TimeSpan.FromMilliseconds(1));
        Assert.Equal(to, span.End, TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, timeline.Gaps.Count);
    }

    [Fact]
    public async Task Unwrap_AttackerSide_ViewerOtherOrganisationWrongAudienceTamperedOrExpiredUrl_AllRefused()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var (cameraId, from, to) = await RecordAsync(tenant);
        var playlist = await tenant.Administrator.GetStringAsync(PlaylistUrl(cameraId, from, to));
        var key = PlaylistKeys.Of(playlist)[0];
        var keyUrl = key.RequestUrl;
        var segmentUrl = playlist.Split('\n').First(l => l.StartsWith("https://", StringComparison.Ordinal) && l.Contains("segments", StringComparison.Ordinal));
        using var other = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var viewerToken = await KeyServerTokenForNewUserAsync(tenant, Roles.Viewer);
        var tampered = (key with { Wrapped = key.Wrapped[..40] + (key.Wrapped[40] == 'A' ? 'B' : 'A') + key.Wrapped[41..] }).RequestUrl;

        Assert.Equal(16, (await UnwrapAsync(keyUrl, await KeyServerTokenAsync(tenant))).Length);
        Assert.Equal(HttpStatusCode.Forbidden, await UnwrapStatusAsync(keyUrl, viewerToken));
        Assert.Equal(HttpStatusCode.Forbidden, await UnwrapStatusAsync(keyUrl, await KeyServerTokenAsync(other)));
        Assert.Equal(HttpStatusCode.Unauthorized, await UnwrapStatusAsync(keyUrl, tenant.Administrator.DefaultRequestHeaders.Authorization!.Parameter!));
        Assert.Equal(HttpStatusCode.Unauthorized, await UnwrapStatusAsync(keyUrl, null));
        Assert.Equal(HttpStatusCode.BadRequest, await UnwrapStatusAsync(tampered, await KeyServerTokenAsync(tenant)));
        using var viewerPlaylist = await GetWithTokenAsync(stack.Cloud.FunctionsUrl, PlaylistUrl(cameraId, from, to), await ApiTokenForNewUserAsync(tenant, Roles.Viewer));
        Assert.Equal(HttpStatusCode.Forbidden, viewerPlaylist.StatusCode);
        using var otherPlaylist = await other.Administrator.GetAsync(PlaylistUrl(cameraId, from, to));
        Assert.Equal(HttpStatusCode.NotFound, otherPlaylist.StatusCode);

        // A read URL is read-only and short-lived: no writes, and no reads once expired.
        using var http = new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate));
        using var read = await http.GetAsync(segmentUrl);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using var expired = await http.GetAsync(await ExpiredReadUrlAsync(cameraId, new Uri(segmentUrl).AbsolutePath.Split("/segments/")[1]));
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);

        using var keyAudit = await GetWithTokenAsync(stack.Cloud.KeyServerUrl, "/v1/audit", await KeyServerTokenForNewUserAsync(tenant, Roles.Administrator));
        var outcomes = await keyAudit.Content.ReadAsStringAsync();
        Assert.Contains("\"outcome\":\"success\"", outcomes, StringComparison.Ordinal);
        Assert.Contains("failure:tampered", outcomes, StringComparison.Ordinal);
        Assert.Contains(cameraId.ToString(), outcomes, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyServer_PerUserUnwrapLimit_ThenTooManyRequests()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var (cameraId, from, to) = await RecordAsync(tenant);
        var playlist = await tenant.Administrator.GetStringAsync(PlaylistUrl(cameraId, from, to));
        var keyUrl = PlaylistKeys.Of(playlist)[0].RequestUrl;
        var token = await KeyServerTokenAsync(tenant);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 601; i++)
        {
            statuses.Add(await UnwrapStatusAsync(keyUrl, token));
        }

        Assert.Equal(600, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
    }

    [Fact]
    public void Playlist_24HoursOfFourSecondSegments_Has21600EntriesAndIsWellFormed()
    {
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var keys = Enumerable.Range(0, 24).Select(k => new PlaylistKey($"https://keys.test/v1/keys/{k:D32}", System.Security.Cryptography.RandomNumberGenerator.GetBytes(300))).ToList();
        var segments = Enumerable.Range(0, 21_600).Select(i => new PlaylistSegment(
            start.AddSeconds(4 * i), 4000, $"https://store.test/cam/segments/{i:D12}.m4s?sig=x", new byte[16], new byte[32],
            keys[i / 900], $"https://store.test/cam/init/{i / 900:D4}.mp4?sig=x", new byte[16], new byte[32])).ToList();

        var text = HlsPlaylist.Build(segments, closed: true);

        Assert.Equal(21_600, Regex.Count(text, "#EXTINF:4.000,"));
        Assert.Equal(21_600, Regex.Count(text, "#EXT-X-PROGRAM-DATE-TIME:"));
        Assert.Equal(24, Regex.Count(text, "#EXT-X-MAP:"));
        Assert.Equal(21_600 + 24, Regex.Count(text, HlsPlaylist.DigestTag));
        Assert.Equal(21_600 + 24, Regex.Count(text, "#EXT-X-KEY:"));
        Assert.Equal(keys.Select(k => k.Uri), PlaylistKeys.Of(text).Select(k => k.Uri));
        Assert.All(keys, k => Assert.Equal(1, Regex.Count(text, Regex.Escape(System.Buffers.Text.Base64Url.EncodeToString(k.Wrapped)))));
        Assert.DoesNotContain("#EXT-X-DISCONTINUITY", text, StringComparison.Ordinal);
        Assert.EndsWith("#EXT-X-ENDLIST\n", text, StringComparison.Ordinal);
    }

    /// <summary>Uploads the fixture's segments for a new camera and waits until their time has passed.</summary>
    async Task<(Guid CameraId, DateTimeOffset From, DateTimeOffset To)> RecordAsync(StackTenant tenant)
    {
        using var camera = await tenant.AddCameraAsync();
        using (var uploader = UploadTestKit.Uploader(stack.Cloud, camera, Path.Combine(_work, camera.CameraId.ToString("N"))))
        {
            await uploader.RunAsync(new VideoSource.Folder(video.Playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }

        var from = video.Segments[0].StartTime;
        var to = video.Segments[^1].StartTime + video.Segments[^1].Duration;
        var wait = to - TimeProvider.System.GetUtcNow() + TimeSpan.FromMilliseconds(200);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait); // The fixture's video was made faster than real time: its end may lie ahead.
        }

        return (camera.CameraId, from, to);
    }

    static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    static string PlaylistUrl(Guid cameraId, DateTimeOffset from, DateTimeOffset to) => $"/api/cameras/{cameraId}/playlist.m3u8?from={Iso(from)}&to={Iso(to)}";

    async Task<string> KeyServerTokenAsync(StackTenant tenant)
    {
        // The sign-in's refresh token is not kept by StackTenant; a new administrator session is simplest.
        return await KeyServerTokenForNewUserAsync(tenant, Roles.Operator);
    }

    async Task<string> KeyServerTokenForNewUserAsync(StackTenant tenant, string role) => (await SessionForNewUserAsync(tenant, role, Audiences.KeyServer)).AccessToken;

    async Task<string> ApiTokenForNewUserAsync(StackTenant tenant, string role) => (await SessionForNewUserAsync(tenant, role, Audiences.Api)).AccessToken;

    async Task<TokenResponse> SessionForNewUserAsync(StackTenant tenant, string role, string audience)
    {
        var user = await tenant.AddUserAsync(role);
        using var client = new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate)) { BaseAddress = stack.Cloud.FunctionsUrl };
        var tokens = await SignInFlow.SignInAsync(client, user, TimeProvider.System);
        return (await (await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(tokens.RefreshToken!, audience))).Content.ReadFromJsonAsync<TokenResponse>())!;
    }

    async Task<byte[]> UnwrapAsync(string keyUrl, string token)
    {
        using var response = await GetWithTokenAsync(null, keyUrl, token);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        return await response.Content.ReadAsByteArrayAsync();
    }

    async Task<HttpStatusCode> UnwrapStatusAsync(string keyUrl, string? token)
    {
        using var response = await GetWithTokenAsync(null, keyUrl, token);
        return response.StatusCode;
    }

    async Task<HttpResponseMessage> GetWithTokenAsync(Uri? baseAddress, string url, string? token)
    {
        using var client = new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate));
        if (baseAddress is not null)
        {
            client.BaseAddress = baseAddress;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await client.SendAsync(request);
    }

    async Task<string> ExpiredReadUrlAsync(Guid cameraId, string segmentName)
    {
        var storage = CloudStore.ControlPlane.Regional.AzureCameraStorage.Create(
            new CloudStore.ControlPlane.Regional.RegionStorageOptions { ConnectionString = stack.Cloud.Azurite.Account(Regions.EuFrankfurt).ConnectionString },
            stack.Cloud.Certificates.CaCertificate);
        var past = TimeProvider.System.GetUtcNow().AddHours(-2);
        var name = "segments/" + segmentName;
        return (await storage.ReadUrlsAsync(cameraId, [name], past, past.AddHours(1), CancellationToken.None))[name];
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Recordings;
using CloudStore.Device.Media;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace CloudStore.Tests.Playback;

/// <summary>
/// Live view on the real stack (functions, key server, Azurite): the live playlist lists the camera's newest run of
/// the last minutes, for every role, and a viewer, who may watch live only, gets keys from the key server only with the
/// live grant each of its key URIs carries. Tried from the attacker's side: no grant, another's grant, a grant for
/// another key, a forged, expired or wrong-type grant, and the recordings API.
/// </summary>
public sealed class LiveViewTests(LocalCloudFixture stack, SourceVideoFixture video)
    : IClassFixture<LocalCloudFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    /// <summary>Older than the live window (2 minutes by default): recordings only.</summary>
    static readonly TimeSpan Old = TimeSpan.FromMinutes(10);

    readonly string _work = Directory.CreateTempSubdirectory("cloudstore-live-").FullName;

    [Fact]
    public async Task Viewer_LivePlaylist_IsTheNewestRunOfTheLastMinutes_AndItsGrantedKeysDecryptExactlyTheRecordedFrames()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var (live, _) = await RecordAsync(tenant, oldSegments: 2);
        var (past, _) = await RecordAsync(tenant, oldSegments: video.Segments.Count);
        var viewer = await SessionAsync(tenant, Roles.Viewer);

        var playlist = await GetStringAsync(stack.Cloud.FunctionsUrl, $"/api/cameras/{live}/live.m3u8", viewer.Api);
        var adminPlaylist = await tenant.Administrator.GetStringAsync($"/api/cameras/{live}/live.m3u8");
        var pastPlaylist = await GetStringAsync(stack.Cloud.FunctionsUrl, $"/api/cameras/{past}/live.m3u8", viewer.Api);

        // Only the three recent segments, numbered as the camera numbered them, as a live playlist: no type, no end.
        Assert.Equal(3, Regex.Count(playlist, "#EXTINF:"));
        Assert.Contains("#EXT-X-MEDIA-SEQUENCE:2\n", playlist, StringComparison.Ordinal);
        Assert.DoesNotContain("#EXT-X-ENDLIST", playlist, StringComparison.Ordinal);
        Assert.DoesNotContain("#EXT-X-PLAYLIST-TYPE", playlist, StringComparison.Ordinal);
        // Each data key's tag carries the viewer's grant for it, once: the key tags before every file name only the key.
        var keys = PlaylistKeys.Of(playlist);
        Assert.NotEmpty(keys);
        Assert.Equal(keys.Select(k => k.Uri).Distinct(), PlaylistKeys.KeyTagUris(playlist).Distinct());
        Assert.All(PlaylistKeys.KeyTagUris(playlist), uri => Assert.Matches("^https://[^?]+/v1/keys/[0-9a-f]{32}$", uri));
        Assert.All(keys, k => Assert.StartsWith($"{HlsPlaylist.KeyTag}URI=\"{k.Uri}\",", Assert.Single(playlist.Split('\n'), line => line.Contains(k.Grant!, StringComparison.Ordinal)), StringComparison.Ordinal));
        Assert.DoesNotContain($"{LiveGrant.QueryParameter}=", playlist, StringComparison.Ordinal);
        Assert.Equal(3, Regex.Count(adminPlaylist, "#EXTINF:"));
        Assert.Equal(keys.Select(k => k.Uri), PlaylistKeys.Of(adminPlaylist).Select(k => k.Uri));
        Assert.All(PlaylistKeys.Of(adminPlaylist), k => Assert.Null(k.Grant));
        Assert.DoesNotContain("GRANT=", adminPlaylist, StringComparison.Ordinal);
        Assert.Equal(0, Regex.Count(pastPlaylist, "#EXTINF:"));
        Assert.Empty(PlaylistKeys.Of(pastPlaylist));
        Assert.Empty(PlaylistKeys.KeyTagUris(pastPlaylist));

        // As the player does: each granted key from the key server with the viewer's own token, at the key tags' URI with
        // the wrapped key and the grant from that key's tag; ffmpeg decodes the rest.
        var local = playlist;
        foreach (var key in keys)
        {
            var file = Path.Combine(_work, Guid.NewGuid().ToString("N") + ".key");
            using var answer = await GetAsync(null, key.RequestUrl, viewer.KeyServer);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            await File.WriteAllBytesAsync(file, await answer.Content.ReadAsByteArrayAsync());
            local = local.Replace(key.Uri, file, StringComparison.Ordinal);
        }

        var playlistFile = Path.Combine(_work, "live.m3u8");
        await File.WriteAllTextAsync(playlistFile, local + "#EXT-X-ENDLIST\n"); // So that ffmpeg stops instead of waiting for more.
        Assert.Equal(await Frames.HashesAsync(await Frames.SourceClipAsync(video.Segments.Skip(2).ToList(), _work)), await Frames.HashesAsync(playlistFile));
    }

    [Fact]
    public async Task Viewer_AttackerSide_KeysWithoutTheirOwnGrantForThatKey_AndRecordings_AreRefused()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var (live, _) = await RecordAsync(tenant, oldSegments: 2);
        var (past, pastFrom) = await RecordAsync(tenant, oldSegments: video.Segments.Count);
        var viewer = await SessionAsync(tenant, Roles.Viewer);
        var otherViewer = await SessionAsync(tenant, Roles.Viewer);
        var operatorToken = (await SessionAsync(tenant, Roles.Operator)).KeyServer;
        var grantedKey = PlaylistKeys.Of(await GetStringAsync(stack.Cloud.FunctionsUrl, $"/api/cameras/{live}/live.m3u8", viewer.Api))[0];
        var granted = grantedKey.RequestUrl;
        var grantedToOther = PlaylistKeys.Of(await GetStringAsync(stack.Cloud.FunctionsUrl, $"/api/cameras/{live}/live.m3u8", otherViewer.Api))[0].RequestUrl;
        var grant = grantedKey.Grant!;
        var bare = (grantedKey with { Grant = null }).RequestUrl;
        var pastKey = PlaylistKeys.Of(await tenant.Administrator.GetStringAsync(
            $"/api/cameras/{past}/playlist.m3u8?from={Iso(pastFrom)}&to={Iso(pastFrom.AddMinutes(1))}"))[0].RequestUrl;
        var forged = grant[..^2] + (grant[^2] == 'A' ? 'B' : 'A') + grant[^1];

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(granted, viewer.KeyServer));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(bare, viewer.KeyServer));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(grantedToOther, viewer.KeyServer));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(WithGrant(pastKey, grant), viewer.KeyServer));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(WithGrant(bare, forged), viewer.KeyServer));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(WithGrant(bare, viewer.KeyServer), viewer.KeyServer));

        // Signed with the functions' own key (read from the stack's state folder, as only a thief could): valid when fresh,
        // so the expired one is refused for its time alone.
        var (keyId, dataKey) = KeyOf(bare);
        Assert.Equal(live, Guid.Parse(Claim(grant, LiveGrant.Camera)));
        Assert.Equal(dataKey, Guid.ParseExact(Claim(grant, LiveGrant.DataKey), "N"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(WithGrant(bare, MintGrant(grant, TimeSpan.Zero)), viewer.KeyServer));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(WithGrant(bare, MintGrant(grant, -TimeSpan.FromMinutes(3))), viewer.KeyServer));

        // People who may see recordings need no grant, for live keys or any other.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(pastKey, operatorToken));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(bare, operatorToken));
        Assert.Equal(HttpStatusCode.BadRequest, await StatusAsync(bare.Replace($"/v1/keys/{keyId}", $"/v1/keys/{keyId}%20", StringComparison.Ordinal), operatorToken));

        // The recordings themselves stay closed to a viewer.
        var range = $"from={Iso(pastFrom)}&to={Iso(pastFrom.AddMinutes(1))}";
        foreach (var (method, path) in new[]
                 {
                     (HttpMethod.Get, $"/api/cameras/{past}/playlist.m3u8?{range}"),
                     (HttpMethod.Get, $"/api/cameras/{past}/timeline?{range}"),
                 })
        {
            using var refused = await SendAsync(method, stack.Cloud.FunctionsUrl, path, viewer.Api);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using var export = await SendAsync(HttpMethod.Post, stack.Cloud.FunctionsUrl, $"/api/cameras/{past}/exports", viewer.Api,
            JsonContent.Create(new ExportRequest(pastFrom, pastFrom.AddMinutes(1))));
        Assert.Equal(HttpStatusCode.Forbidden, export.StatusCode);

        using var keyAudit = await GetAsync(stack.Cloud.KeyServerUrl, "/v1/audit", (await SessionAsync(tenant, Roles.Administrator)).KeyServer);
        var outcomes = await keyAudit.Content.ReadAsStringAsync();
        Assert.Contains("failure:no-live-grant", outcomes, StringComparison.Ordinal);
        Assert.Contains("failure:live-grant-refused", outcomes, StringComparison.Ordinal);
        Assert.Contains(keyId, outcomes, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LivePlaylist_ReloadedEverySegment_IsAuditedOncePerPersonAndCamera()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        var (live, _) = await RecordAsync(tenant, oldSegments: 2);
        var viewer = await SessionAsync(tenant, Roles.Viewer);
        var other = await SessionAsync(tenant, Roles.Viewer);

        for (var i = 0; i < 3; i++)
        {
            await GetStringAsync(stack.Cloud.FunctionsUrl, $"/api/cameras/{live}/live.m3u8", viewer.Api);
        }

        await GetStringAsync(stack.Cloud.FunctionsUrl, $"/api/cameras/{live}/live.m3u8", other.Api);

        var entries = await tenant.Administrator.GetFromJsonAsync<List<AuditEntryResponse>>("/api/audit?action=recordings.live-watched");
        Assert.Equal(2, entries!.Count);
        Assert.All(entries, e => Assert.Equal($"camera:{live}", e.Target));
        Assert.Equal(2, entries.Select(e => e.Actor).Distinct().Count());
    }

    /// <summary>
    /// A camera that recorded the fixture's video with its first <paramref name="oldSegments"/> segments <see cref="Old"/>
    /// ago and the rest ending just now (one upload, so the sequence numbers run on).
    /// </summary>
    /// <returns>The camera, and when its old part started.</returns>
    async Task<(Guid CameraId, DateTimeOffset OldFrom)> RecordAsync(StackTenant tenant, int oldSegments)
    {
        var segments = video.Segments;
        var recentShift = TimeProvider.System.GetUtcNow() - TimeSpan.FromSeconds(1) - (segments[^1].StartTime + segments[^1].Duration);
        var oldShift = TimeProvider.System.GetUtcNow() - Old - segments[0].StartTime;
        var playlist = Path.Combine(Path.GetDirectoryName(video.Playlist)!, $"live-{Guid.NewGuid():N}.m3u8");
        var index = 0;
        await File.WriteAllLinesAsync(playlist, (await File.ReadAllLinesAsync(video.Playlist)).Select(line =>
        {
            if (!line.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))
            {
                return line;
            }

            var time = DateTimeOffset.Parse(line["#EXT-X-PROGRAM-DATE-TIME:".Length..], CultureInfo.InvariantCulture) + (index++ < oldSegments ? oldShift : recentShift);
            return "#EXT-X-PROGRAM-DATE-TIME:" + time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }));

        using var camera = await tenant.AddCameraAsync();
        using (var uploader = UploadTestKit.Uploader(stack.Cloud, camera, Path.Combine(_work, camera.CameraId.ToString("N"))))
        {
            await uploader.RunAsync(new VideoSource.Folder(playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }

        File.Delete(playlist);
        return (camera.CameraId, segments[0].StartTime + oldShift);
    }

    /// <summary>One person's session: an access token for the API and one for the key server, of the same sign-in.</summary>
    async Task<(string Api, string KeyServer)> SessionAsync(StackTenant tenant, string role)
    {
        var user = await tenant.AddUserAsync(role);
        using var client = new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate)) { BaseAddress = stack.Cloud.FunctionsUrl };
        var signedIn = await SignInFlow.SignInAsync(client, user, TimeProvider.System);
        var api = (await (await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(signedIn.RefreshToken!, Audiences.Api))).Content.ReadFromJsonAsync<TokenResponse>())!;
        var keyServer = (await (await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(api.RefreshToken!, Audiences.KeyServer))).Content.ReadFromJsonAsync<TokenResponse>())!;
        return (api.AccessToken, keyServer.AccessToken);
    }

    /// <summary>A grant with the same claims as <paramref name="model"/>, signed with the stack's signing key, expiring <paramref name="expiredFor"/> from now plus a minute.</summary>
    string MintGrant(string model, TimeSpan expiredFor)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(stack.Cloud.Options.StateFolder, "functions", "signing-key.pem")));
        var securityKey = new ECDsaSecurityKey(key) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };
        var publicJwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(key.ExportParameters(false))));
        securityKey.KeyId = Base64UrlEncoder.Encode(publicJwk.ComputeJwkThumbprint());
        var token = new JsonWebToken(model);
        var expires = TimeProvider.System.GetUtcNow().UtcDateTime + expiredFor + TimeSpan.FromMinutes(1);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = token.Issuer,
            Audience = token.Audiences.Single(),
            Claims = new Dictionary<string, object>
            {
                [ClaimNames.Subject] = token.Subject,
                [ClaimNames.Organization] = Claim(model, ClaimNames.Organization),
                [LiveGrant.Camera] = Claim(model, LiveGrant.Camera),
                [LiveGrant.DataKey] = Claim(model, LiveGrant.DataKey),
            },
            IssuedAt = expires - TimeSpan.FromMinutes(2),
            NotBefore = expires - TimeSpan.FromMinutes(2),
            Expires = expires,
            SigningCredentials = new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256),
            TokenType = LiveGrant.TokenType,
        });
    }

    static string Claim(string token, string name) => new JsonWebToken(token).GetClaim(name).Value;

    static string WithGrant(string keyUrl, string grant) =>
        Regex.Replace(keyUrl, $"&{LiveGrant.QueryParameter}=[^&]*", "") + $"&{LiveGrant.QueryParameter}={Uri.EscapeDataString(grant)}";

    /// <summary>The key id in a key URL's path, and the data key it names.</summary>
    static (string KeyId, Guid DataKey) KeyOf(string keyUrl)
    {
        var keyId = Regex.Match(keyUrl, "/v1/keys/([0-9a-f]{32})").Groups[1].Value;
        return (keyId, Guid.ParseExact(keyId, "N"));
    }

    static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    async Task<HttpStatusCode> StatusAsync(string url, string token)
    {
        using var response = await GetAsync(null, url, token);
        return response.StatusCode;
    }

    async Task<string> GetStringAsync(Uri baseAddress, string path, string token)
    {
        using var response = await GetAsync(baseAddress, path, token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {body}");
        return body;
    }

    Task<HttpResponseMessage> GetAsync(Uri? baseAddress, string url, string token) => SendAsync(HttpMethod.Get, baseAddress, url, token);

    async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri? baseAddress, string url, string token, HttpContent? content = null)
    {
        using var client = new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate));
        if (baseAddress is not null)
        {
            client.BaseAddress = baseAddress;
        }

        using var request = new HttpRequestMessage(method, url) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}

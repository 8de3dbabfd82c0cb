extern alias keyserver;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.Tests.Infrastructure;
using keyserver::CloudStore.KeyServer.KeyStores;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static CloudStore.Tests.Infrastructure.FakeKeyVault;

namespace CloudStore.Tests.KeyStores;

/// <summary>The key store contract, against <see cref="AzureKeyVaultKeyStore"/> talking to <see cref="FakeKeyVault"/>.</summary>
public sealed class AzureKeyVaultKeyStoreContractTests : KeyStoreContractTests
{
    readonly FakeEntraIdTokenCredential _credential = new(TenantId);
    FakeKeyVault _vault = null!;

    protected override async Task<IKeyStore> CreateStoreAsync()
    {
        _vault = await StartAsync(_credential);
        return AzureKeyVaultKeyStoreTests.CreateStore(_vault, _credential);
    }

    public override async Task DisposeAsync()
    {
        var violations = _vault.Violations;
        var privateMembers = _vault.PrivateKeyMembersServed();
        await _vault.DisposeAsync();
        Assert.Empty(violations);
        Assert.Empty(privateMembers);
    }
}

/// <summary>What is particular to Key Vault: the requests on the wire, authentication, versions, failures.</summary>
public sealed class AzureKeyVaultKeyStoreTests : IAsyncLifetime
{
    readonly FakeEntraIdTokenCredential _credential = new(TenantId);
    FakeKeyVault _vault = null!;

    public async Task InitializeAsync() => _vault = await StartAsync(_credential);

    public async Task DisposeAsync() => await _vault.DisposeAsync();

    internal static AzureKeyVaultKeyStore CreateStore(FakeKeyVault vault, TokenCredential credential) =>
        new(VaultUris, credential, new AzureKeyVaultClientOptions { Transport = vault.CreateTransport() }, NullLogger<AzureKeyVaultKeyStore>.Instance);

    [Fact]
    public async Task Requests_ToEachVault_OneChallengeThenApiVersionAndAVaultScopedBearerOnEvery()
    {
        var store = CreateStore(_vault, _credential);
        var organization = Guid.NewGuid();

        var key = await store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        await store.RotateAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        await store.UnwrapAsync(Wrap(key, organization), CancellationToken.None);
        await store.GetOrCreatePublicKeyAsync(organization, Regions.UkLondon, CancellationToken.None);

        var requests = _vault.ClientRequests;
        Assert.Empty(_vault.Violations);
        Assert.All(requests, request => Assert.Equal(AzureKeyVaultKeyStore.ApiVersion, request.ApiVersion));
        Assert.Equal([VaultUri(Regions.EuFrankfurt).Host, VaultUri(Regions.UkLondon).Host], requests.Select(request => request.Host).Distinct());
        foreach (var toOneVault in requests.GroupBy(request => request.Host))
        {
            var first = toOneVault.First();
            Assert.Equal((Authorization.None, false, 401), (first.Authorization, first.HadBody, first.Status));
            Assert.All(toOneVault.Skip(1), request => Assert.Equal(Authorization.KeyVaultToken, request.Authorization));
            Assert.Equal(first.Path, toOneVault.ElementAt(1).Path);
        }

        Assert.NotEmpty(_credential.Requests);
        Assert.All(_credential.Requests, token =>
        {
            Assert.Equal([FakeEntraIdTokenCredential.KeyVaultScope], token.Scopes);
            Assert.Equal(TenantId, token.TenantId);
        });
    }

    [Fact]
    public async Task ChallengePolicy_FirstRequestWithABody_SendsTheBodyOnlyAfterAuthenticating()
    {
        var pipeline = HttpPipelineBuilder.Build(new AzureKeyVaultClientOptions { Transport = _vault.CreateTransport() },
            new KeyVaultChallengeAuthenticationPolicy(_credential));
        using var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Post;
        message.Request.Uri.Reset(new Uri(VaultUri(Regions.AustraliaSydney), $"keys/org-{Guid.NewGuid():D}/create?api-version={ApiVersion}"));
        message.Request.Headers.Add(HttpHeader.Common.JsonContentType);
        message.Request.Content = RequestContent.Create(BinaryData.FromString("""{"kty":"RSA-HSM","key_size":2048,"key_ops":["wrapKey","unwrapKey"]}"""));

        await pipeline.SendAsync(message, CancellationToken.None);

        Assert.Equal(200, message.Response.Status);
        Assert.Empty(_vault.Violations);
        Assert.Equal(
            [(Authorization.None, false, 401), (Authorization.KeyVaultToken, true, 200)],
            _vault.ClientRequests.Select(request => (request.Authorization, request.HadBody, request.Status)));
    }

    [Fact]
    public async Task CreateKey_Requests_AskForAnRsaHsm2048KeyForWrapAndUnwrapOnly_NumberedByTag()
    {
        var store = CreateStore(_vault, _credential);
        var organization = Guid.NewGuid();

        await store.GetOrCreatePublicKeyAsync(organization, Regions.CanadaToronto, CancellationToken.None);
        await store.RotateAsync(organization, Regions.CanadaToronto, CancellationToken.None);

        var creates = _vault.ClientRequests.Where(request => request.Operation == "create" && request.Status == 200).ToList();
        Assert.Equal(2, creates.Count);
        Assert.All(creates, create => Assert.Equal($"/keys/org-{organization:D}/create", create.Path));
        var bodies = creates.Select(create => JsonNode.Parse(create.CreateBody!)!.AsObject()).ToList();
        Assert.All(bodies, body =>
        {
            Assert.Equal("RSA-HSM", body["kty"]!.GetValue<string>());
            Assert.Equal(2048, body["key_size"]!.GetValue<int>());
            Assert.Equal(["wrapKey", "unwrapKey"], body["key_ops"]!.AsArray().Select(op => op!.GetValue<string>()));
            Assert.False(body.ContainsKey("release_policy"));
        });
        Assert.Equal(["1", "2"], bodies.Select(body => body["tags"]![AzureKeyVaultKeyStore.VersionTag]!.GetValue<string>()));
        Assert.Equal(2, _vault.VersionCount(Regions.CanadaToronto, AzureKeyVaultKeyStore.KeyName(organization)));
        Assert.Empty(_vault.Violations);
    }

    [Fact]
    public async Task PrivateKey_NeverLeavesTheVault_OnlyPublicPartsServed_NoExportingOperationUsed()
    {
        var store = CreateStore(_vault, _credential);
        var organization = Guid.NewGuid();
        var key = await store.GetOrCreatePublicKeyAsync(organization, Regions.UsVirginia, CancellationToken.None);
        var wrapped = Wrap(key, organization);
        await store.RotateAsync(organization, Regions.UsVirginia, CancellationToken.None);

        var record = await store.UnwrapAsync(wrapped, CancellationToken.None);

        Assert.Equal(organization, record.OrganizationId);
        Assert.Empty(_vault.PrivateKeyMembersServed());
        Assert.Empty(_vault.Violations);
        var requests = _vault.ClientRequests;
        Assert.Subset(new HashSet<string> { "get", "create", "versions", "unwrapkey" }, requests.Select(request => request.Operation).ToHashSet());
        Assert.All(requests.Where(request => request.Operation == "unwrapkey" && request.Authorization == Authorization.KeyVaultToken),
            unwrap => Assert.Equal(["alg", "value"], unwrap.BodyFields));
    }

    [Fact]
    public async Task Unwrap_IdentityWithoutAVaultToken_FailsAsAVaultError_NotAsAChangedKey()
    {
        var organization = Guid.NewGuid();
        var key = await CreateStore(_vault, _credential).GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        var outsider = CreateStore(_vault, new FakeEntraIdTokenCredential(TenantId));

        var refused = await Assert.ThrowsAsync<RequestFailedException>(() => outsider.UnwrapAsync(Wrap(key, organization), CancellationToken.None));
        var refusedKey = await Assert.ThrowsAsync<RequestFailedException>(() => outsider.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None));

        Assert.Equal(401, refused.Status);
        Assert.Equal(401, refusedKey.Status);
        Assert.Equal(1, _vault.VersionCount(Regions.EuFrankfurt, AzureKeyVaultKeyStore.KeyName(organization)));
    }

    [Fact]
    public async Task Challenge_NamingAResourceOutsideTheVaultsDomain_NoTokenIsRequestedOrSent()
    {
        _vault.ChallengeResource = "https://attacker.example";
        var store = CreateStore(_vault, _credential);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetOrCreatePublicKeyAsync(Guid.NewGuid(), Regions.UkLondon, CancellationToken.None));

        Assert.Empty(_credential.Requests);
        Assert.All(_vault.ClientRequests, request => Assert.Equal(Authorization.None, request.Authorization));
    }

    [Fact]
    public async Task GetOrCreatePublicKey_NewestVersionMadeOutsideTheKeyServer_RefusedWithTheReason_UntilTheKeyServerRotates()
    {
        var store = CreateStore(_vault, _credential);
        var organization = Guid.NewGuid();
        var key = await store.GetOrCreatePublicKeyAsync(organization, Regions.AustraliaSydney, CancellationToken.None);
        var wrapped = Wrap(key, organization);

        var (status, _) = await _vault.SendAsTestClientAsync(HttpMethod.Post,
            new Uri(VaultUri(Regions.AustraliaSydney), $"keys/{AzureKeyVaultKeyStore.KeyName(organization)}/rotate?api-version={ApiVersion}"), null);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetOrCreatePublicKeyAsync(organization, Regions.AustraliaSydney, CancellationToken.None));

        var rotated = await store.RotateAsync(organization, Regions.AustraliaSydney, CancellationToken.None);

        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Contains(AzureKeyVaultKeyStore.VersionTag, refused.Message, StringComparison.Ordinal);
        Assert.Equal(2, rotated.Version);
        Assert.Equal(rotated, await store.GetOrCreatePublicKeyAsync(organization, Regions.AustraliaSydney, CancellationToken.None));
        Assert.Equal(3, _vault.VersionCount(Regions.AustraliaSydney, AzureKeyVaultKeyStore.KeyName(organization)));
        Assert.Equal(organization, (await store.UnwrapAsync(wrapped, CancellationToken.None)).OrganizationId);
        Assert.Equal(organization, (await store.UnwrapAsync(Wrap(rotated, organization), CancellationToken.None)).OrganizationId);
        Assert.Empty(_vault.Violations);
    }

    [Fact]
    public async Task Unwrap_VersionListSpanningPages_FollowsTheNextLinks()
    {
        _vault.VersionsPageSize = 1;
        var organization = Guid.NewGuid();
        var store = CreateStore(_vault, _credential);
        await store.GetOrCreatePublicKeyAsync(organization, Regions.UkLondon, CancellationToken.None);
        await store.RotateAsync(organization, Regions.UkLondon, CancellationToken.None);
        var v3 = await store.RotateAsync(organization, Regions.UkLondon, CancellationToken.None);
        var wrapped = Wrap(v3, organization);
        var fresh = CreateStore(_vault, _credential);
        var before = _vault.ClientRequests.Count;

        var record = await fresh.UnwrapAsync(wrapped, CancellationToken.None);

        Assert.Equal(organization, record.OrganizationId);
        Assert.Equal(3, _vault.ClientRequests.Skip(before).Count(request => request.Operation == "versions" && request.Authorization == Authorization.KeyVaultToken));
        Assert.Empty(_vault.Violations);
    }

    [Fact]
    public async Task Unwrap_TwoVaultVersionsWithOneNumber_KeysWrappedUnderEitherOpen()
    {
        var organization = Guid.NewGuid();
        var name = AzureKeyVaultKeyStore.KeyName(organization);
        var first = CreateStore(_vault, _credential);
        var firstKey = await first.GetOrCreatePublicKeyAsync(organization, Regions.CanadaToronto, CancellationToken.None);
        var wrappedFirst = Wrap(firstKey, organization);
        await first.UnwrapAsync(wrappedFirst, CancellationToken.None);

        // Another key server instance, racing, created version 1 as well.
        var (status, _) = await _vault.SendAsTestClientAsync(HttpMethod.Post, new Uri(VaultUri(Regions.CanadaToronto), $"keys/{name}/create?api-version={ApiVersion}"),
            new JsonObject
            {
                ["kty"] = "RSA-HSM",
                ["key_size"] = 2048,
                ["key_ops"] = new JsonArray("wrapKey", "unwrapKey"),
                ["tags"] = new JsonObject { [AzureKeyVaultKeyStore.VersionTag] = "1" },
            }.ToJsonString());
        var secondKey = await CreateStore(_vault, _credential).GetOrCreatePublicKeyAsync(organization, Regions.CanadaToronto, CancellationToken.None);
        var wrappedSecond = Wrap(secondKey, organization);

        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        Assert.Equal((1, firstKey.KeyId), (secondKey.Version, secondKey.KeyId));
        Assert.NotEqual(firstKey.PublicKey, secondKey.PublicKey);
        Assert.Equal(organization, (await first.UnwrapAsync(wrappedSecond, CancellationToken.None)).OrganizationId);
        Assert.Equal(organization, (await first.UnwrapAsync(wrappedFirst, CancellationToken.None)).OrganizationId);
        Assert.Empty(_vault.Violations);
    }

    [Fact]
    public void Constructor_RegionWithoutAnHttpsVault_Refused()
    {
        var vaults = VaultUris.ToDictionary();
        vaults[Regions.UkLondon] = new Uri("http://cs-uk-london.vault.azure.net/");
        var withoutOne = VaultUris.Where(pair => pair.Key != Regions.UsVirginia).ToDictionary();

        Assert.Throws<ArgumentException>(() => new AzureKeyVaultKeyStore(vaults, _credential, new AzureKeyVaultClientOptions(), NullLogger<AzureKeyVaultKeyStore>.Instance));
        Assert.Throws<ArgumentException>(() => new AzureKeyVaultKeyStore(withoutOne, _credential, new AzureKeyVaultClientOptions(), NullLogger<AzureKeyVaultKeyStore>.Instance));
    }

    static WrappedKey Wrap(PublicKeyResponse key, Guid organization)
    {
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(key.PublicKey), out _);
        return WrappedKey.Wrap(new BindingRecord(organization, Guid.NewGuid(), Guid.NewGuid(), SegmentCipher.NewKey()), rsa, key.KeyId);
    }
}

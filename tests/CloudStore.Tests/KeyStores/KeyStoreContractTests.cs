extern alias keyserver;
using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.Device.Upload;
using keyserver::CloudStore.KeyServer.KeyStores;
using Xunit;

namespace CloudStore.Tests.KeyStores;

/// <summary>
/// What every key store promises its callers (the public-key endpoint, the unwrap endpoint, the control plane),
/// run against each store: <see cref="LocalKeyStoreContractTests"/> and <see cref="AzureKeyVaultKeyStoreContractTests"/>.
/// Data keys are wrapped by the camera's own code (<see cref="DataKeys"/>), as stored beside the media.
/// </summary>
public abstract class KeyStoreContractTests : IAsyncLifetime
{
    protected IKeyStore Store { get; private set; } = null!;

    /// <summary>A new, empty store of the kind under test.</summary>
    protected abstract Task<IKeyStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task GetOrCreatePublicKey_FirstNeed_MakesAnRsa2048Version1_ThenServesTheSameKey()
    {
        var organization = Guid.NewGuid();

        var first = await Store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        var again = await Store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);

        Assert.Equal(first, again);
        Assert.Equal(1, first.Version);
        Assert.Equal(new KeyEncryptionKeyId(Regions.EuFrankfurt, organization, 1).ToString(), first.KeyId);
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(first.PublicKey), out _);
        Assert.Equal(2048, rsa.KeySize);
        Assert.Equal([1, 0, 1], rsa.ExportParameters(false).Exponent);
    }

    [Fact]
    public async Task Destroy_OrganisationsKey_NothingWrappedUnderAnyVersionUnwrapsAndNoKeyIsMadeAgain()
    {
        var organization = Guid.NewGuid();
        var first = await WrapAsync(organization, Regions.EuFrankfurt);
        await Store.RotateAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        var second = await WrapAsync(organization, Regions.EuFrankfurt);
        await Store.UnwrapAsync(first, CancellationToken.None); // A store that keeps opened keys now has them.
        await Store.UnwrapAsync(second, CancellationToken.None);

        var destroyed = await Store.DestroyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        var again = await Store.DestroyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);

        Assert.True(destroyed);
        Assert.False(again);
        await Assert.ThrowsAnyAsync<CryptographicException>(() => Store.UnwrapAsync(first, CancellationToken.None));
        await Assert.ThrowsAnyAsync<CryptographicException>(() => Store.UnwrapAsync(second, CancellationToken.None));
        await Assert.ThrowsAsync<KeyDestroyedException>(() => Store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None));
        await Assert.ThrowsAsync<KeyDestroyedException>(() => Store.RotateAsync(organization, Regions.EuFrankfurt, CancellationToken.None));
    }

    [Fact]
    public async Task Destroy_OneOrganisationInOneRegion_OtherOrganisationsAndRegionsStillUnwrap()
    {
        var victim = Guid.NewGuid();
        var neighbour = Guid.NewGuid();
        var neighbours = await WrapAsync(neighbour, Regions.EuFrankfurt);
        var victimElsewhere = await WrapAsync(victim, Regions.UkLondon);
        await WrapAsync(victim, Regions.EuFrankfurt);

        await Store.DestroyAsync(victim, Regions.EuFrankfurt, CancellationToken.None);

        Assert.Equal(neighbour, (await Store.UnwrapAsync(neighbours, CancellationToken.None)).OrganizationId);
        Assert.Equal(victim, (await Store.UnwrapAsync(victimElsewhere, CancellationToken.None)).OrganizationId);
    }

    async Task<WrappedKey> WrapAsync(Guid organization, string region)
    {
        var publicKey = await Store.GetOrCreatePublicKeyAsync(organization, region, CancellationToken.None);
        using var keys = new DataKeys(organization, Guid.NewGuid(), TimeProvider.System);
        return WrappedKey.Parse(keys.ForEncryption(publicKey).Key.Wrapped);
    }

    [Fact]
    public async Task Unwrap_DataKeyWrappedByTheCamera_ReturnsItsBindingRecord()
    {
        var organization = Guid.NewGuid();
        var camera = Guid.NewGuid();
        var publicKey = await Store.GetOrCreatePublicKeyAsync(organization, Regions.UkLondon, CancellationToken.None);
        using var keys = new DataKeys(organization, camera, TimeProvider.System);
        var (dataKey, _) = keys.ForEncryption(publicKey);

        var record = await Store.UnwrapAsync(WrappedKey.Parse(dataKey.Wrapped), CancellationToken.None);

        Assert.Equal(organization, record.OrganizationId);
        Assert.Equal(camera, record.CameraId);
        Assert.Equal(dataKey.Id, record.DataKeyId);
        Assert.Equal(dataKey.Key, record.Key);
    }

    [Fact]
    public async Task Rotate_AfterKeysWereWrapped_NewPublicKey_OldAndNewWrappedKeysBothUnwrap()
    {
        var organization = Guid.NewGuid();
        var v1 = await Store.GetOrCreatePublicKeyAsync(organization, Regions.CanadaToronto, CancellationToken.None);
        var underV1 = Wrap(v1, organization);

        var v2 = await Store.RotateAsync(organization, Regions.CanadaToronto, CancellationToken.None);
        var underV2 = Wrap(v2, organization);
        var current = await Store.GetOrCreatePublicKeyAsync(organization, Regions.CanadaToronto, CancellationToken.None);

        Assert.Equal(2, v2.Version);
        Assert.Equal(new KeyEncryptionKeyId(Regions.CanadaToronto, organization, 2).ToString(), v2.KeyId);
        Assert.NotEqual(v1.PublicKey, v2.PublicKey);
        Assert.Equal(v2, current);
        Assert.Equal(underV1.Record.Key, (await Store.UnwrapAsync(underV1.Wrapped, CancellationToken.None)).Key);
        Assert.Equal(underV2.Record.Key, (await Store.UnwrapAsync(underV2.Wrapped, CancellationToken.None)).Key);
    }

    [Fact]
    public async Task Unwrap_WrappedKeyChanged_ThrowsCryptographicException()
    {
        var organization = Guid.NewGuid();
        var key = await Store.GetOrCreatePublicKeyAsync(organization, Regions.AustraliaSydney, CancellationToken.None);
        var (wrapped, _) = Wrap(key, organization);
        var changed = wrapped.Ciphertext.ToArray();
        changed[100] ^= 0x01;

        await Assert.ThrowsAnyAsync<CryptographicException>(() => Store.UnwrapAsync(wrapped with { Ciphertext = changed }, CancellationToken.None));
        Assert.Equal(organization, (await Store.UnwrapAsync(wrapped, CancellationToken.None)).OrganizationId);
    }

    [Fact]
    public async Task Unwrap_OrganisationWithoutKeys_ThrowsCryptographicException()
    {
        var organization = Guid.NewGuid();
        var known = await Store.GetOrCreatePublicKeyAsync(organization, Regions.UsVirginia, CancellationToken.None);
        var stranger = Guid.NewGuid();
        var (wrapped, _) = Wrap(known, stranger);

        await Assert.ThrowsAnyAsync<CryptographicException>(() =>
            Store.UnwrapAsync(wrapped with { KeyEncryptionKeyId = new KeyEncryptionKeyId(Regions.UsVirginia, stranger, 1).ToString() }, CancellationToken.None));
    }

    [Fact]
    public async Task Unwrap_VersionNotMadeYet_ThrowsCryptographicException()
    {
        var organization = Guid.NewGuid();
        var key = await Store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        var (wrapped, _) = Wrap(key, organization);

        await Assert.ThrowsAnyAsync<CryptographicException>(() =>
            Store.UnwrapAsync(wrapped with { KeyEncryptionKeyId = new KeyEncryptionKeyId(Regions.EuFrankfurt, organization, 2).ToString() }, CancellationToken.None));
    }

    [Theory]
    [InlineData("")]
    [InlineData("eu-frankfurt/not-a-guid/v1")]
    [InlineData("mars-olympus/00000000000000000000000000000001/v1")]
    [InlineData("eu-frankfurt/00000000000000000000000000000001/v0")]
    public async Task Unwrap_KeyIdNoStoreCouldHold_ThrowsCryptographicException(string keyId)
    {
        var organization = Guid.NewGuid();
        var key = await Store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        var (wrapped, _) = Wrap(key, organization);

        await Assert.ThrowsAnyAsync<CryptographicException>(() => Store.UnwrapAsync(wrapped with { KeyEncryptionKeyId = keyId }, CancellationToken.None));
    }

    [Fact]
    public async Task Unwrap_WrappedUnderOneOrganisationsKey_NamingAnothersKey_ThrowsCryptographicException()
    {
        var victim = Guid.NewGuid();
        var attacker = Guid.NewGuid();
        var victimKey = await Store.GetOrCreatePublicKeyAsync(victim, Regions.UkLondon, CancellationToken.None);
        var attackerKey = await Store.GetOrCreatePublicKeyAsync(attacker, Regions.UkLondon, CancellationToken.None);
        var (wrappedForVictim, _) = Wrap(victimKey, attacker);

        await Assert.ThrowsAnyAsync<CryptographicException>(() =>
            Store.UnwrapAsync(wrappedForVictim with { KeyEncryptionKeyId = attackerKey.KeyId }, CancellationToken.None));
        Assert.NotEqual(victimKey.PublicKey, attackerKey.PublicKey);
    }

    [Fact]
    public async Task Unwrap_WrappedUnderOneRegionsKey_NamingAnotherRegionsKey_ThrowsCryptographicException()
    {
        var organization = Guid.NewGuid();
        var frankfurt = await Store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        var london = await Store.GetOrCreatePublicKeyAsync(organization, Regions.UkLondon, CancellationToken.None);
        var (wrappedInFrankfurt, _) = Wrap(frankfurt, organization);

        await Assert.ThrowsAnyAsync<CryptographicException>(() =>
            Store.UnwrapAsync(wrappedInFrankfurt with { KeyEncryptionKeyId = london.KeyId }, CancellationToken.None));
        Assert.NotEqual(frankfurt.PublicKey, london.PublicKey);
    }

    [Fact]
    public async Task Unwrap_BindingRecordNamingAnotherOrganisation_ThrowsCryptographicException()
    {
        var organization = Guid.NewGuid();
        var key = await Store.GetOrCreatePublicKeyAsync(organization, Regions.AustraliaSydney, CancellationToken.None);

        var (wrapped, _) = Wrap(key, organizationInRecord: Guid.NewGuid());

        await Assert.ThrowsAnyAsync<CryptographicException>(() => Store.UnwrapAsync(wrapped, CancellationToken.None));
    }

    [Fact]
    public async Task GetOrCreatePublicKey_RegionNotInTheCatalogue_ThrowsArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetOrCreatePublicKeyAsync(Guid.NewGuid(), "mars-olympus", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.RotateAsync(Guid.NewGuid(), "mars-olympus", CancellationToken.None));
    }

    /// <summary>A data key wrapped with the envelope code the camera uses, under <paramref name="key"/>.</summary>
    protected static (WrappedKey Wrapped, BindingRecord Record) Wrap(PublicKeyResponse key, Guid organizationInRecord)
    {
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(key.PublicKey), out _);
        var record = new BindingRecord(organizationInRecord, Guid.NewGuid(), Guid.NewGuid(), SegmentCipher.NewKey());
        return (WrappedKey.Parse(WrappedKey.Wrap(record, rsa, key.KeyId).ToBytes()), record);
    }
}

/// <summary>The contract, against the embedded store in a temporary folder.</summary>
public sealed class LocalKeyStoreContractTests : KeyStoreContractTests
{
    readonly string _root = Directory.CreateTempSubdirectory("cloudstore-keys-").FullName;

    protected override Task<IKeyStore> CreateStoreAsync() => Task.FromResult<IKeyStore>(new LocalKeyStore(_root, TimeProvider.System));

    public override Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}

extern alias keyserver;
using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using keyserver::CloudStore.KeyServer.KeyStores;
using Xunit;

namespace CloudStore.Tests.Unit;

public sealed class LocalKeyStoreTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("cloudstore-keys-").FullName;

    [Fact]
    public async Task PublicKey_MadeOnFirstNeed_ThenTheSame_AndPrivateKeyEncryptedAtRest()
    {
        var store = new LocalKeyStore(_root, TimeProvider.System);
        var organization = Guid.NewGuid();

        var first = await store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        var again = await new LocalKeyStore(_root, TimeProvider.System).GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);

        Assert.Equal(first, again);
        Assert.Equal(1, first.Version);
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(first.PublicKey), out _);
        Assert.Equal(2048, rsa.KeySize);
        using var file = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_root, Regions.EuFrankfurt, $"{organization:N}.json")));
        var stored = Convert.FromBase64String(file.RootElement.GetProperty("Versions")[0].GetProperty("EncryptedPrivateKey").GetString()!);
        using var probe = RSA.Create();
        Assert.ThrowsAny<CryptographicException>(() => probe.ImportPkcs8PrivateKey(stored, out _));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_root, Regions.EuFrankfurt, "master.key")));
    }

    [Fact]
    public async Task Rotate_NewVersionForNewKeys_OldWrappedKeysStillUnwrap()
    {
        var store = new LocalKeyStore(_root, TimeProvider.System);
        var organization = Guid.NewGuid();
        var v1 = await store.GetOrCreatePublicKeyAsync(organization, Regions.UkLondon, CancellationToken.None);
        var wrappedUnderV1 = Wrap(v1, organization);

        var v2 = await store.RotateAsync(organization, Regions.UkLondon, CancellationToken.None);
        var unwrapped = await store.UnwrapAsync(wrappedUnderV1, CancellationToken.None);

        Assert.Equal(2, v2.Version);
        Assert.NotEqual(v1.PublicKey, v2.PublicKey);
        Assert.Equal(organization, unwrapped.OrganizationId);
    }

    [Fact]
    public async Task Unwrap_AfterDestroy_SaysTheKeyWasDestroyed_EvenWithTheOldKeyFilePutBack()
    {
        var store = new LocalKeyStore(_root, TimeProvider.System);
        var organization = Guid.NewGuid();
        var wrapped = Wrap(await store.GetOrCreatePublicKeyAsync(organization, Regions.CanadaToronto, CancellationToken.None), organization);
        var keyFile = Path.Combine(_root, Regions.CanadaToronto, $"{organization:N}.json");
        var copy = await File.ReadAllBytesAsync(keyFile);

        await store.DestroyAsync(organization, Regions.CanadaToronto, CancellationToken.None);
        await File.WriteAllBytesAsync(keyFile, copy);

        await Assert.ThrowsAsync<KeyDestroyedException>(() => store.UnwrapAsync(wrapped, CancellationToken.None));
    }

    [Fact]
    public async Task Unwrap_KeyFileCopiedToAnotherOrganisation_DoesNotDecrypt()
    {
        var store = new LocalKeyStore(_root, TimeProvider.System);
        var victim = Guid.NewGuid();
        var attacker = Guid.NewGuid();
        var key = await store.GetOrCreatePublicKeyAsync(victim, Regions.UsVirginia, CancellationToken.None);
        var folder = Path.Combine(_root, Regions.UsVirginia);
        File.Copy(Path.Combine(folder, $"{victim:N}.json"), Path.Combine(folder, $"{attacker:N}.json"));
        var attackerName = new KeyEncryptionKeyId(Regions.UsVirginia, attacker, 1).ToString();

        var wrapped = Wrap(key with { KeyId = attackerName }, attacker);

        await Assert.ThrowsAnyAsync<CryptographicException>(() => store.UnwrapAsync(wrapped, CancellationToken.None));
    }

    [Fact]
    public async Task Unwrap_BindingRecordOfAnotherOrganisation_Refused()
    {
        var store = new LocalKeyStore(_root, TimeProvider.System);
        var organization = Guid.NewGuid();
        var key = await store.GetOrCreatePublicKeyAsync(organization, Regions.AustraliaSydney, CancellationToken.None);

        var wrapped = Wrap(key, organizationInRecord: Guid.NewGuid());

        await Assert.ThrowsAsync<CryptographicException>(() => store.UnwrapAsync(wrapped, CancellationToken.None));
    }

    [Fact]
    public async Task Unwrap_KeyDestroyedByAnotherInstanceSharingTheFolder_RefusedAtTheNextUnwrap()
    {
        using var destroyer = new LocalKeyStore(_root, TimeProvider.System);
        using var other = new LocalKeyStore(_root, TimeProvider.System);
        var organization = Guid.NewGuid();
        var wrapped = Wrap(await destroyer.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None), organization);
        Assert.Equal(organization, (await other.UnwrapAsync(wrapped, CancellationToken.None)).OrganizationId); // now open in memory there

        await destroyer.DestroyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);

        await Assert.ThrowsAnyAsync<CryptographicException>(() => other.UnwrapAsync(wrapped, CancellationToken.None));
    }

    [Fact]
    public async Task Unwrap_KeyRotatedByAnotherInstance_OldAndNewWrappedKeysUnwrapThere()
    {
        using var rotator = new LocalKeyStore(_root, TimeProvider.System);
        using var other = new LocalKeyStore(_root, TimeProvider.System);
        var organization = Guid.NewGuid();
        var old = Wrap(await rotator.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None), organization);
        await other.UnwrapAsync(old, CancellationToken.None);

        var current = Wrap(await rotator.RotateAsync(organization, Regions.EuFrankfurt, CancellationToken.None), organization);

        Assert.Equal(organization, (await other.UnwrapAsync(old, CancellationToken.None)).OrganizationId);
        Assert.Equal(organization, (await other.UnwrapAsync(current, CancellationToken.None)).OrganizationId);
    }

    [Fact]
    public async Task Unwrap_ManyAtOnceWhileTheKeyIsDestroyed_NoneStartedAfterDestructionSucceeds()
    {
        using var store = new LocalKeyStore(_root, TimeProvider.System);
        var organization = Guid.NewGuid();
        var wrapped = Wrap(await store.GetOrCreatePublicKeyAsync(organization, Regions.EuFrankfurt, CancellationToken.None), organization);
        var destroyed = 0;
        var stop = 0;
        var openedAfterDestruction = 0;
        var unexpected = new List<Exception>();

        var unwraps = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                var startedAfterDestruction = Volatile.Read(ref destroyed) == 1;
                try
                {
                    await store.UnwrapAsync(wrapped, CancellationToken.None);
                    if (startedAfterDestruction)
                    {
                        Interlocked.Increment(ref openedAfterDestruction);
                    }
                }
                catch (CryptographicException)
                {
                    // Refused: destroyed.
                }
                catch (Exception e)
                {
                    lock (unexpected)
                    {
                        unexpected.Add(e);
                    }
                }
            }
        })).ToArray();
        await Task.Delay(200);
        await store.DestroyAsync(organization, Regions.EuFrankfurt, CancellationToken.None);
        Volatile.Write(ref destroyed, 1);
        await Task.Delay(100);
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(unwraps);

        Assert.Empty(unexpected);
        Assert.Equal(0, openedAfterDestruction);
    }

    static WrappedKey Wrap(PublicKeyResponse key, Guid organizationInRecord)
    {
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(key.PublicKey), out _);
        return WrappedKey.Wrap(new BindingRecord(organizationInRecord, Guid.NewGuid(), Guid.NewGuid(), SegmentCipher.NewKey()), rsa, key.KeyId);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

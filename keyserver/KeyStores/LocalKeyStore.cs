using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>
/// The embedded key store. Per region a folder with its own master key (32 random bytes, a 0600 file
/// made on first run) and one JSON file per organisation listing its key versions. Each private key is
/// stored as PKCS#8 encrypted with AES-256-GCM under the region's master key, with the key id as
/// associated data, so a key file copied to another organisation or region does not decrypt.
/// Opened private keys are kept while their file is unchanged (<see cref="OpenedKeyCache"/>): each unwrap
/// checks the file with one <c>stat</c> and otherwise costs one RSA operation.
/// </summary>
public sealed class LocalKeyStore(string root, TimeProvider time) : IKeyStore, IDisposable
{
    const int MasterKeySize = 32;
    readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    readonly OpenedKeyCache _opened = new(time);

    public Task<PublicKeyResponse> GetOrCreatePublicKeyAsync(Guid organizationId, string region, CancellationToken cancellationToken) =>
        ChangeAsync(organizationId, region, versions => versions.Count == 0, cancellationToken);

    public Task<PublicKeyResponse> RotateAsync(Guid organizationId, string region, CancellationToken cancellationToken) =>
        ChangeAsync(organizationId, region, _ => true, cancellationToken);

    public async Task<BindingRecord> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        var id = KeyStoreRules.KeyIdOf(wrapped);
        for (var attempt = 0; ; attempt++)
        {
            // Checked on every unwrap, opened key or not (two stats): the organisation's tombstone refuses as destroyed
            // (410), even if an old copy of the key file were put back; a deleted key file refuses at once.
            if (File.Exists(TombstonePath(id.OrganizationId, id.Region)))
            {
                throw new KeyDestroyedException($"The organisation's key in {id.Region} was destroyed.");
            }

            var stamp = FileStamp.Of(KeyFilePath(id.OrganizationId, id.Region)) ?? throw KeyStoreRules.NoSuchKey();
            var rsa = _opened.Get(id, stamp);
            if (rsa is null)
            {
                rsa = await OpenAsync(id, cancellationToken);
                _opened.Add(id, stamp, rsa);
            }

            try
            {
                return wrapped.Unwrap(rsa).BelongingTo(id);
            }
            catch (ObjectDisposedException) when (attempt < 2)
            {
                // Dropped from the cache by another thread meanwhile (idle, replaced or destroyed): look again.
            }
        }
    }

    /// <summary>Reads, decrypts and imports one version of the private key; the plain PKCS#8 is wiped at once.</summary>
    async Task<RSA> OpenAsync(KeyEncryptionKeyId id, CancellationToken cancellationToken)
    {
        var file = await ReadAsync(id.OrganizationId, id.Region, cancellationToken);
        var version = file?.Versions.SingleOrDefault(v => v.Version == id.Version) ?? throw KeyStoreRules.NoSuchKey();
        var rsa = RSA.Create();
        var pkcs8 = DecryptPrivateKey(id, version, await MasterKeyAsync(id.Region, cancellationToken));
        try
        {
            rsa.ImportPkcs8PrivateKey(pkcs8, out _);
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>
    /// Deletes the key file (each private key was encrypted under the region's master key with AES-GCM, so the
    /// file's bytes alone unwrap nothing) and leaves a tombstone so the organisation never gets a key again.
    /// </summary>
    public async Task<bool> DestroyAsync(Guid organizationId, string region, CancellationToken cancellationToken)
    {
        KeyStoreRules.RequireRegion(region);
        var gate = _locks.GetOrAdd($"{region}/{organizationId:N}", _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var tombstone = TombstonePath(organizationId, region);
            if (!File.Exists(tombstone))
            {
                Directory.CreateDirectory(RegionFolder(region));
                PrivateFile.Write(tombstone, time.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            }

            var path = KeyFilePath(organizationId, region);
            var existed = File.Exists(path);
            File.Delete(path);
            _opened.Forget(organizationId, region);
            return existed;
        }
        finally
        {
            gate.Release();
        }
    }

    async Task<PublicKeyResponse> ChangeAsync(Guid organizationId, string region, Func<List<KeyVersion>, bool> addVersion, CancellationToken cancellationToken)
    {
        KeyStoreRules.RequireRegion(region);
        var gate = _locks.GetOrAdd($"{region}/{organizationId:N}", _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (File.Exists(TombstonePath(organizationId, region)))
            {
                throw new KeyDestroyedException($"The organisation's key in {region} was destroyed.");
            }

            var file = await ReadAsync(organizationId, region, cancellationToken) ?? new KeyFile(organizationId, region, []);
            if (addVersion(file.Versions))
            {
                var id = new KeyEncryptionKeyId(region, organizationId, file.Versions.Count + 1);
                file.Versions.Add(CreateVersion(id, await MasterKeyAsync(region, cancellationToken)));
                await WriteAsync(file, cancellationToken);
            }

            var current = file.Versions[^1];
            return new PublicKeyResponse(new KeyEncryptionKeyId(region, organizationId, current.Version).ToString(), current.Version, current.PublicKey);
        }
        finally
        {
            gate.Release();
        }
    }

    KeyVersion CreateVersion(KeyEncryptionKeyId id, byte[] masterKey)
    {
        using var rsa = RSA.Create(2048);
        var pkcs8 = rsa.ExportPkcs8PrivateKey();
        try
        {
            var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
            var ciphertext = new byte[pkcs8.Length];
            var tag = new byte[AesGcm.TagByteSizes.MaxSize];
            using (var gcm = new AesGcm(masterKey, tag.Length))
            {
                gcm.Encrypt(nonce, pkcs8, ciphertext, tag, Encoding.UTF8.GetBytes(id.ToString()));
            }

            return new KeyVersion(id.Version, time.GetUtcNow(), Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()),
                Convert.ToBase64String(nonce), Convert.ToBase64String(ciphertext), Convert.ToBase64String(tag));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    static byte[] DecryptPrivateKey(KeyEncryptionKeyId id, KeyVersion version, byte[] masterKey)
    {
        var ciphertext = Convert.FromBase64String(version.EncryptedPrivateKey);
        var tag = Convert.FromBase64String(version.Tag);
        var plaintext = new byte[ciphertext.Length];
        using var gcm = new AesGcm(masterKey, tag.Length);
        gcm.Decrypt(Convert.FromBase64String(version.Nonce), ciphertext, tag, plaintext, Encoding.UTF8.GetBytes(id.ToString()));
        return plaintext;
    }

    string RegionFolder(string region) => Path.Combine(root, region);

    string KeyFilePath(Guid organizationId, string region) => Path.Combine(RegionFolder(region), $"{organizationId:N}.json");

    string TombstonePath(Guid organizationId, string region) => Path.Combine(RegionFolder(region), $"{organizationId:N}.destroyed");

    async Task<byte[]> MasterKeyAsync(string region, CancellationToken cancellationToken)
    {
        var path = Path.Combine(RegionFolder(region), "master.key");
        if (!File.Exists(path))
        {
            var gate = _locks.GetOrAdd($"{region}/master", _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(cancellationToken);
            try
            {
                if (!File.Exists(path))
                {
                    PrivateFile.Write(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(MasterKeySize)));
                }
            }
            finally
            {
                gate.Release();
            }
        }

        var key = Convert.FromBase64String((await File.ReadAllTextAsync(path, cancellationToken)).Trim());
        return key.Length == MasterKeySize ? key : throw new CryptographicException($"The master key in {path} is not {MasterKeySize} bytes.");
    }

    async Task<KeyFile?> ReadAsync(Guid organizationId, string region, CancellationToken cancellationToken)
    {
        var path = KeyFilePath(organizationId, region);
        if (!File.Exists(path))
        {
            return null;
        }

        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<KeyFile>(stream, cancellationToken: cancellationToken);
    }

    async Task WriteAsync(KeyFile file, CancellationToken cancellationToken)
    {
        var path = KeyFilePath(file.OrganizationId, file.Region);
        var temporary = path + ".tmp";
        PrivateFile.Write(temporary, JsonSerializer.Serialize(file));
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Disposes the opened keys.</summary>
    public void Dispose() => _opened.Dispose();

    sealed record KeyFile(Guid OrganizationId, string Region, List<KeyVersion> Versions);

    sealed record KeyVersion(int Version, DateTimeOffset CreatedAt, string PublicKey, string Nonce, string EncryptedPrivateKey, string Tag);
}

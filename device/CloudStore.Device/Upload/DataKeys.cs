using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;

namespace CloudStore.Device.Upload;

/// <summary>A data key in use: its id, the AES key (memory only), and its wrapped form (what is stored).</summary>
public sealed class DataKey(Guid id, byte[] key, byte[] wrapped, DateTimeOffset createdAt) : IDisposable
{
    public Guid Id { get; } = id;

    public byte[] Key { get; } = key;

    public byte[] Wrapped { get; } = wrapped;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public void Dispose() => CryptographicOperations.ZeroMemory(Key);

    public override string ToString() => $"DataKey {Id}";
}

/// <summary>
/// The camera's data keys: a new random AES-128 key at every start and at least every
/// <see cref="RotationPeriod"/>, wrapped at once under the organisation's public key. The plain key
/// lives only in memory; only its wrapped form is ever written to disk or storage.
/// </summary>
public sealed class DataKeys(Guid organizationId, Guid cameraId, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan RotationPeriod = TimeSpan.FromHours(1);

    public DataKey? Current { get; private set; }

    /// <summary>The key to encrypt with now; rotates when the current one is too old or the public key changed.</summary>
    /// <returns>The key, and whether it is new (its wrapped form must be stored before segments using it are indexed).</returns>
    public (DataKey Key, bool IsNew) ForEncryption(PublicKeyResponse publicKey)
    {
        var now = time.GetUtcNow();
        if (Current is { } current && now - current.CreatedAt < RotationPeriod && current.Wrapped.Length > 0 && WrappedUnder(current) == publicKey.KeyId)
        {
            return (current, false);
        }

        // The old key has encrypted its last file (encryption happens on one thread, file by file): wipe it now.
        Current?.Dispose();

        var id = Guid.NewGuid();
        var key = SegmentCipher.NewKey();
        using var rsa = RSA.Create();
        rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey.PublicKey), out _);
        var wrapped = WrappedKey.Wrap(new BindingRecord(organizationId, cameraId, id, key), rsa, publicKey.KeyId).ToBytes();
        Current = new DataKey(id, key, wrapped, now);
        return (Current, true);
    }

    static string WrappedUnder(DataKey key) => WrappedKey.Parse(key.Wrapped).KeyEncryptionKeyId;

    public void Dispose() => Current?.Dispose();
}

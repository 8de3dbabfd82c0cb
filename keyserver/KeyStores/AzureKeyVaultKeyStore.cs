using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>
/// The production key store: each organisation's key in a region is an RSA-HSM 2048 key in that region's Azure
/// Key Vault, named <c>org-{organisation id}</c>, allowed only <c>wrapKey</c> and <c>unwrapKey</c>. The key server
/// reads the public half (the JWK's <c>n</c> and <c>e</c>) and asks the vault to unwrap (<c>RSA-OAEP-256</c>);
/// the private half never leaves the HSM. Key Vault's REST API is called directly through Azure.Core's pipeline
/// (Azure.Security.KeyVault.Keys cannot be restored here), with requests shaped as that client shapes them.
/// <para>
/// Versions. Callers number key versions 1, 2, … (<see cref="KeyEncryptionKeyId"/> travels in every wrapped key);
/// Key Vault names them with random ids. Each vault version carries the tag <see cref="VersionTag"/> with its
/// number, set when the key server creates it, so a wrapped key finds its exact vault version through the
/// key's version list. Rotation creates a new version of the same key (Create Key on an existing name) numbered
/// one above the highest number in the vault; old versions stay and still unwrap. Two key server instances
/// creating a version at the same moment can leave two vault versions with one number: an unwrap tries every
/// vault version carrying the number, so keys wrapped under either still open. Versions made outside the key
/// server (portal, CLI, a rotation policy) carry no number and unwrap nothing; while such a version is the
/// newest, public keys are refused with an error saying so, until a rotation through the key server (or the tag,
/// set by hand) numbers the newest version again.
/// </para>
/// </summary>
public sealed partial class AzureKeyVaultKeyStore : IKeyStore
{
    /// <summary>
    /// The Key Vault data-plane API version: the newest generally available one, which the current REST
    /// reference documents (the operations used here are unchanged since 7.x; previews are not used).
    /// </summary>
    public const string ApiVersion = "2025-07-01";

    /// <summary>The tag holding CloudStore's version number on each vault version.</summary>
    public const string VersionTag = "cloudstore-key-version";

    /// <summary>HSM-protected RSA: the private key is generated in, and never leaves, the vault's HSMs (Premium vaults).</summary>
    public const string KeyType = "RSA-HSM";

    public const int KeySize = 2048;

    /// <summary>RSA-OAEP with SHA-256 and MGF1-SHA-256: what <see cref="WrappedKey.Wrap"/> uses.</summary>
    public const string WrapAlgorithm = "RSA-OAEP-256";

    /// <summary>The only operations the keys allow: the vault refuses sign, decrypt, encrypt, … with them.</summary>
    public static readonly IReadOnlyList<string> KeyOperations = ["wrapKey", "unwrapKey"];

    const int VersionsPageSize = 25;
    readonly IReadOnlyDictionary<string, Uri> _vaults;
    readonly HttpPipeline _pipeline;
    readonly ILogger<AzureKeyVaultKeyStore> _logger;
    readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    // Which vault versions carry a CloudStore version number. Vault versions never change, so this only saves
    // listing the versions on every unwrap; a miss, or a failed unwrap, lists them again.
    readonly ConcurrentDictionary<KeyEncryptionKeyId, string[]> _vaultVersions = new();

    /// <param name="vaults">The vault of every region (https base URIs).</param>
    /// <param name="credential">The key server's identity (its managed identity in Azure).</param>
    public AzureKeyVaultKeyStore(IReadOnlyDictionary<string, Uri> vaults, TokenCredential credential, AzureKeyVaultClientOptions clientOptions, ILogger<AzureKeyVaultKeyStore> logger)
    {
        foreach (var region in Regions.All)
        {
            if (!vaults.TryGetValue(region, out var vault) || vault.Scheme != Uri.UriSchemeHttps)
            {
                throw new ArgumentException($"Region {region} has no https Key Vault.", nameof(vaults));
            }
        }

        _vaults = vaults;
        _logger = logger;
        _pipeline = HttpPipelineBuilder.Build(clientOptions, new KeyVaultChallengeAuthenticationPolicy(credential));
    }

    /// <summary>The vault key of an organisation. Each region has its own vault, so the name needs no region.</summary>
    public static string KeyName(Guid organizationId) => $"org-{organizationId:D}";

    public async Task<PublicKeyResponse> GetOrCreatePublicKeyAsync(Guid organizationId, string region, CancellationToken cancellationToken)
    {
        KeyStoreRules.RequireRegion(region);
        var latest = await GetLatestAsync(organizationId, region, cancellationToken);
        return latest is not null
            ? latest.PublicKey(region, organizationId)
            : await ChangeAsync(organizationId, region, rotate: false, cancellationToken);
    }

    public Task<PublicKeyResponse> RotateAsync(Guid organizationId, string region, CancellationToken cancellationToken)
    {
        KeyStoreRules.RequireRegion(region);
        return ChangeAsync(organizationId, region, rotate: true, cancellationToken);
    }

    public async Task<BindingRecord> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken)
    {
        var id = KeyStoreRules.KeyIdOf(wrapped);
        var record = await wrapped.UnwrapAsync((ciphertext, token) => UnwrapInVaultAsync(id, ciphertext, token), cancellationToken);
        return record.BelongingTo(id);
    }

    /// <summary>
    /// Delete Key: every version of the organisation's key leaves service at once (the vault keeps it
    /// soft-deleted, unusable, for its retention period; with purge protection nobody can shorten that).
    /// A key name in the deleted state cannot be created again, so the organisation gets no new key.
    /// </summary>
    public async Task<bool> DestroyAsync(Guid organizationId, string region, CancellationToken cancellationToken)
    {
        KeyStoreRules.RequireRegion(region);
        var name = KeyName(organizationId);
        using var message = CreateMessage(region, RequestMethod.Delete, $"/keys/{name}");
        var response = await SendAsync(message, cancellationToken);
        return response.Status switch
        {
            200 => true,
            404 => false,
            _ => throw Failure("delete key", region, response),
        };
    }

    /// <summary>
    /// Makes the first version (<paramref name="rotate"/> false: only if the key has none yet) or the next one,
    /// numbered one above the highest number in the vault, whatever version is the newest.
    /// </summary>
    async Task<PublicKeyResponse> ChangeAsync(Guid organizationId, string region, bool rotate, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd($"{region}/{organizationId:N}", _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (!rotate && await GetLatestAsync(organizationId, region, cancellationToken) is { } latest)
            {
                return latest.PublicKey(region, organizationId);
            }

            var numbered = rotate ? await ListNumberedVersionsAsync(region, organizationId, cancellationToken) : [];
            var next = numbered.Count == 0 ? 1 : numbered.Max(version => version.Number) + 1;
            return (await CreateAsync(organizationId, region, next, cancellationToken)).PublicKey(region, organizationId);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Get Key without a version: the newest version, or null when the key does not exist.</summary>
    async Task<VaultKey?> GetLatestAsync(Guid organizationId, string region, CancellationToken cancellationToken)
    {
        var name = KeyName(organizationId);
        using var message = CreateMessage(region, RequestMethod.Get, $"/keys/{name}/");
        var response = await SendAsync(message, cancellationToken);
        if (response.Status == 404)
        {
            return null;
        }

        return response.Status == 200 ? ReadKey(response, region, name) : throw Failure("get key", region, response);
    }

    /// <summary>Create Key: a new key, or a new version of an existing one, numbered with the version tag.</summary>
    async Task<VaultKey> CreateAsync(Guid organizationId, string region, int version, CancellationToken cancellationToken)
    {
        var name = KeyName(organizationId);
        using var message = CreateMessage(region, RequestMethod.Post, $"/keys/{name}/create");
        message.Request.Content = Json(json =>
        {
            json.WriteString("kty", KeyType);
            json.WriteNumber("key_size", KeySize);
            json.WriteStartArray("key_ops");
            foreach (var operation in KeyOperations)
            {
                json.WriteStringValue(operation);
            }

            json.WriteEndArray();
            json.WriteStartObject("attributes");
            json.WriteBoolean("enabled", true);
            json.WriteEndObject();
            json.WriteStartObject("tags");
            json.WriteString(VersionTag, version.ToString(CultureInfo.InvariantCulture));
            json.WriteEndObject();
        });
        var response = await SendAsync(message, cancellationToken);
        if (response.Status == 409)
        {
            // The name is deleted (soft-deleted, recoverable): the organisation's key was destroyed.
            throw new KeyDestroyedException($"The organisation's key in {region} was destroyed.");
        }

        if (response.Status != 200)
        {
            throw Failure("create key", region, response);
        }

        var key = ReadKey(response, region, name);
        if (key.Version != version)
        {
            throw new InvalidOperationException($"Key Vault created {name} in {region} without the version tag that was sent.");
        }

        LogKeyCreated(_logger, name, region, version, key.VaultVersion);
        return key;
    }

    /// <summary>Unwrap Key with the vault version(s) carrying the wrapped key's version number.</summary>
    async Task<byte[]> UnwrapInVaultAsync(KeyEncryptionKeyId id, ReadOnlyMemory<byte> ciphertext, CancellationToken cancellationToken)
    {
        var fromCache = _vaultVersions.TryGetValue(id, out var candidates);
        candidates ??= await VaultVersionsNumberedAsync(id, cancellationToken);
        var tried = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            foreach (var vaultVersion in candidates.Where(tried.Add))
            {
                if (await UnwrapKeyAsync(id, vaultVersion, ciphertext, cancellationToken) is { } plaintext)
                {
                    return plaintext;
                }
            }

            if (!fromCache)
            {
                break;
            }

            // Another instance may have added a vault version with this number since the list was cached.
            fromCache = false;
            candidates = await VaultVersionsNumberedAsync(id, cancellationToken);
        }

        throw tried.Count == 0
            ? KeyStoreRules.NoSuchKey()
            : new CryptographicException("The key vault could not unwrap the wrapped key: it was changed, or wrapped under another key.");
    }

    /// <returns>The unwrapped bytes, or null when the vault refused to unwrap (400: not a ciphertext of this key; 404: no such version).</returns>
    async Task<byte[]?> UnwrapKeyAsync(KeyEncryptionKeyId id, string vaultVersion, ReadOnlyMemory<byte> ciphertext, CancellationToken cancellationToken)
    {
        var name = KeyName(id.OrganizationId);
        using var message = CreateMessage(id.Region, RequestMethod.Post, $"/keys/{name}/{vaultVersion}/unwrapkey");
        message.Request.Content = Json(json =>
        {
            json.WriteString("alg", WrapAlgorithm);
            json.WriteString("value", Base64Url.EncodeToString(ciphertext.Span));
        });
        var response = await SendAsync(message, cancellationToken);
        if (response.Status is 400 or 404)
        {
            LogUnwrapRefused(_logger, name, id.Region, vaultVersion, response.Status, ErrorCode(response));
            return null;
        }

        return response.Status == 200 ? ReadUnwrappedValue(response) : throw Failure("unwrap key", id.Region, response);
    }

    /// <summary>The vault versions carrying the wrapped key's version number (normally one), remembered once found.</summary>
    async Task<string[]> VaultVersionsNumberedAsync(KeyEncryptionKeyId id, CancellationToken cancellationToken)
    {
        string[] versions = [.. (await ListNumberedVersionsAsync(id.Region, id.OrganizationId, cancellationToken))
            .Where(version => version.Number == id.Version).Select(version => version.VaultVersion)];
        if (versions.Length > 0)
        {
            _vaultVersions[id] = versions;
        }

        return versions;
    }

    /// <summary>Get Key Versions, every page: each vault version that carries a CloudStore version number, with it.</summary>
    async Task<List<(string VaultVersion, int Number)>> ListNumberedVersionsAsync(string region, Guid organizationId, CancellationToken cancellationToken)
    {
        var name = KeyName(organizationId);
        var found = new List<(string VaultVersion, int Number)>();
        Uri? next = null;
        do
        {
            using var message = next is null
                ? CreateMessage(region, RequestMethod.Get, $"/keys/{name}/versions", ("maxresults", VersionsPageSize.ToString(CultureInfo.InvariantCulture)))
                : CreateNextPageMessage(region, next);
            var response = await SendAsync(message, cancellationToken);
            if (response.Status == 404)
            {
                return [];
            }

            if (response.Status != 200)
            {
                throw Failure("get key versions", region, response);
            }

            using var page = JsonDocument.Parse(response.Content);
            foreach (var item in page.RootElement.GetProperty("value").EnumerateArray())
            {
                if (VersionNumber(item) is { } number)
                {
                    found.Add((VaultVersionOf(item.GetProperty("kid").GetString(), region, name), number));
                }
            }

            next = page.RootElement.TryGetProperty("nextLink", out var link) && link.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(link.GetString())
                ? new Uri(link.GetString()!, UriKind.Absolute)
                : null;
        }
        while (next is not null);

        return found;
    }

    /// <summary>The CloudStore version number in a key bundle's or key item's tags, if it has one.</summary>
    static int? VersionNumber(JsonElement bundleOrItem) =>
        bundleOrItem.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Object
        && tags.TryGetProperty(VersionTag, out var tag) && tag.ValueKind == JsonValueKind.String
        && int.TryParse(tag.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1
            ? number
            : null;

    HttpMessage CreateMessage(string region, RequestMethod method, string path, params (string Name, string Value)[] query)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_vaults[region]);
        request.Uri.AppendPath(path, escape: false);
        request.Uri.AppendQuery("api-version", ApiVersion);
        foreach (var (name, value) in query)
        {
            request.Uri.AppendQuery(name, value);
        }

        request.Headers.Add(HttpHeader.Common.JsonAccept);
        return message;
    }

    /// <summary>A next page exactly as the vault linked it (it carries the API version), and only on the same vault.</summary>
    HttpMessage CreateNextPageMessage(string region, Uri next)
    {
        var vault = _vaults[region];
        if (next.Scheme != Uri.UriSchemeHttps || !string.Equals(next.Host, vault.Host, StringComparison.OrdinalIgnoreCase) || next.Port != vault.Port)
        {
            throw new InvalidOperationException($"The key vault of {region} linked a next page on another host.");
        }

        var message = _pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Get;
        message.Request.Uri.Reset(next);
        message.Request.Headers.Add(HttpHeader.Common.JsonAccept);
        return message;
    }

    async Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken)
    {
        if (message.Request.Content is not null)
        {
            message.Request.Headers.Add(HttpHeader.Common.JsonContentType);
        }

        await _pipeline.SendAsync(message, cancellationToken);
        return message.Response;
    }

    static RequestContent Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }

        return RequestContent.Create(buffer.WrittenMemory);
    }

    /// <summary>A key bundle: the vault version, CloudStore's number and the public key, checked to be what the key server creates.</summary>
    VaultKey ReadKey(Response response, string region, string name)
    {
        using var bundle = JsonDocument.Parse(response.Content);
        var key = bundle.RootElement.GetProperty("key");
        var vaultVersion = VaultVersionOf(key.GetProperty("kid").GetString(), region, name);
        if (!key.TryGetProperty("kty", out var kty) || !kty.ValueEquals(KeyType))
        {
            throw new InvalidOperationException($"Key {name} in {region} is not an {KeyType} key.");
        }

        var modulus = Base64Url.DecodeFromChars(key.GetProperty("n").GetString());
        var exponent = Base64Url.DecodeFromChars(key.GetProperty("e").GetString());
        var leadingZeros = modulus.AsSpan().IndexOfAnyExcept((byte)0);
        modulus = leadingZeros > 0 ? modulus[leadingZeros..] : modulus;
        if (modulus.Length != KeySize / 8 || (modulus[0] & 0x80) == 0 || exponent.Length is 0 or > 8)
        {
            throw new InvalidOperationException($"Key {name} in {region} is not an RSA {KeySize} key.");
        }

        return new VaultKey(name, vaultVersion, VersionNumber(bundle.RootElement), modulus, exponent);
    }

    /// <summary>The version segment of a key id (<c>https://{vault}/keys/{name}/{version}</c>) of this vault and key.</summary>
    string VaultVersionOf(string? kid, string region, string name)
    {
        if (!Uri.TryCreate(kid, UriKind.Absolute, out var uri) || !string.Equals(uri.Host, _vaults[region].Host, StringComparison.OrdinalIgnoreCase)
            || uri.Segments is not ["/", "keys/", var keySegment, var version]
            || !string.Equals(keySegment.TrimEnd('/'), name, StringComparison.OrdinalIgnoreCase)
            || version.Length == 0 || !version.All(char.IsAsciiLetterOrDigit))
        {
            throw new InvalidOperationException($"The key vault of {region} answered with a key id that is not of key {name}.");
        }

        return version;
    }

    /// <summary>The unwrapped bytes from <c>{"kid": …, "value": base64url}</c>; the response buffer is wiped afterwards.</summary>
    static byte[] ReadUnwrappedValue(Response response)
    {
        var body = response.Content.ToMemory();
        try
        {
            var reader = new Utf8JsonReader(body.Span);
            byte[]? value = null;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("value"))
                {
                    reader.Read();
                    value = reader.TokenType != JsonTokenType.String ? null
                        : reader.ValueIsEscaped ? Base64Url.DecodeFromChars(reader.GetString())
                        : Base64Url.DecodeFromUtf8(reader.ValueSpan);
                }
            }

            return value ?? throw new InvalidOperationException("The key vault's unwrap answer carries no value.");
        }
        finally
        {
            if (response.ContentStream is MemoryStream buffered && buffered.TryGetBuffer(out var bytes))
            {
                CryptographicOperations.ZeroMemory(bytes);
            }
        }
    }

    /// <summary>The <c>error.code</c> of a Key Vault error answer (<c>{"error":{"code":…,"message":…}}</c>).</summary>
    static string ErrorCode(Response response)
    {
        try
        {
            using var error = JsonDocument.Parse(response.Content);
            return error.RootElement.TryGetProperty("error", out var detail) && detail.TryGetProperty("code", out var code)
                ? code.GetString() ?? "" : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }

    RequestFailedException Failure(string operation, string region, Response response)
    {
        LogVaultFailed(_logger, operation, region, response.Status, ErrorCode(response));
        return new RequestFailedException(response);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Key Vault: created version {Version} of key {KeyName} in {Region} (vault version {VaultVersion})")]
    static partial void LogKeyCreated(ILogger logger, string keyName, string region, int version, string vaultVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Key Vault: unwrap with {KeyName}/{VaultVersion} in {Region} refused, {Status} {ErrorCode}")]
    static partial void LogUnwrapRefused(ILogger logger, string keyName, string region, string vaultVersion, int status, string errorCode);

    [LoggerMessage(Level = LogLevel.Error, Message = "Key Vault: {Operation} in {Region} failed, {Status} {ErrorCode}")]
    static partial void LogVaultFailed(ILogger logger, string operation, string region, int status, string errorCode);

    /// <summary>One vault version of an organisation's key: its public half and CloudStore's number for it, if it has one.</summary>
    sealed record VaultKey(string Name, string VaultVersion, int? Version, byte[] Modulus, byte[] Exponent)
    {
        /// <exception cref="InvalidOperationException">The version has no CloudStore number: it was made outside the key server.</exception>
        public PublicKeyResponse PublicKey(string region, Guid organizationId)
        {
            if (Version is not { } version)
            {
                throw new InvalidOperationException(
                    $"The newest version ({VaultVersion}) of key {Name} in {region} carries no {VersionTag} tag: it was made outside the key server "
                    + $"(portal, CLI or a rotation policy), so no wrapped key could name it. Rotate through the key server, or give that version the tag "
                    + $"{VersionTag} = one above the highest number in use.");
            }

            using var rsa = RSA.Create();
            rsa.ImportParameters(new RSAParameters { Modulus = Modulus, Exponent = Exponent });
            return new PublicKeyResponse(new KeyEncryptionKeyId(region, organizationId, version).ToString(), version, Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()));
        }
    }
}

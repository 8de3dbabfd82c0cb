using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Core.Pipeline;
using CloudStore.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// A FAKE Azure Key Vault (Key Vault cannot run here): an in-process HTTPS server on loopback that serves the
/// key operations CloudStore uses — Create Key, Get Key, Get Key Versions, Unwrap Key, and Rotate Key (for tests
/// that act as an operator) — over real in-memory RSA-2048 keys, one vault per region
/// (<c>https://cs-{region}.vault.azure.net/</c>, reached through <see cref="CreateHandler"/>, which connects those
/// names to the loopback port and pins the fake's throwaway certificate).
/// <para>
/// It checks every request against the shapes the public Key Vault REST reference documents (API version
/// 2025-07-01): host, path, method, <c>api-version</c>, JSON body fields and values, base64url values, and
/// authentication — Key Vault's challenge (a request without a token gets 401 with
/// <c>WWW-Authenticate: Bearer authorization=…, resource=…</c>; it must not carry a body) and then
/// <c>Authorization: Bearer</c> with the one token <see cref="FakeEntraIdTokenCredential"/> issues for the Key Vault
/// audience. It also checks what CloudStore promises on top: RSA-HSM 2048 keys for wrapKey/unwrapKey only, never
/// exportable, unwrap with RSA-OAEP-256 only. An off-spec request is answered 400 and recorded in
/// <see cref="Violations"/>, which tests assert to be empty.
/// </para>
/// <para>
/// What it cannot show: that real Key Vault accepts these requests (its error codes and messages here are
/// modelled on the reference and public reports), RBAC, throttling, soft delete, HSM behaviour, real Entra ID tokens.
/// </para>
/// </summary>
public sealed partial class FakeKeyVault : IAsyncDisposable
{
    public const string ApiVersion = "2025-07-01";
    public const string TenantId = "72f988bf-0000-4c3a-9e1d-2f6c1a3b4d5e";
    public const string VaultDomain = "vault.azure.net";
    const string TestClientHeader = "X-Fake-Key-Vault-Test-Client";

    static readonly string[] JwkPrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "k"];
    static readonly HashSet<string> CreateFields = ["kty", "attributes", "crv", "key_ops", "key_size", "public_exponent", "release_policy", "tags"];
    static readonly HashSet<string> AttributeFields = ["enabled", "nbf", "exp", "exportable"];
    static readonly HashSet<string> DocumentedKeyOperations = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export"];
    static readonly HashSet<string> UnwrapFields = ["alg", "value", "iv", "aad", "tag"];

    readonly WebApplication _app;
    readonly X509Certificate2 _certificate;
    readonly int _port;
    readonly FakeEntraIdTokenCredential _credential;
    readonly Lock _gate = new();
    readonly Dictionary<string, List<StoredVersion>> _keys = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Deleted keys: soft-deleted and recoverable (purge protection), so their names cannot be created again.</summary>
    readonly Dictionary<string, List<StoredVersion>> _deleted = new(StringComparer.OrdinalIgnoreCase);
    readonly List<RecordedRequest> _requests = [];
    readonly List<string> _violations = [];
    readonly List<string> _servedBodies = [];

    FakeKeyVault(WebApplication app, X509Certificate2 certificate, int port, FakeEntraIdTokenCredential credential)
    {
        _app = app;
        _certificate = certificate;
        _port = port;
        _credential = credential;
    }

    /// <summary>Entries per page of Get Key Versions (Key Vault's default and maximum is 25).</summary>
    public int VersionsPageSize { get; set; } = 25;

    /// <summary>The <c>resource</c> the 401 challenge names; a real vault names <c>https://vault.azure.net</c>.</summary>
    public string ChallengeResource { get; set; } = "https://" + VaultDomain;

    public static Uri VaultUri(string region) => new($"https://cs-{region}.{VaultDomain}/");

    /// <summary>The vault of every region.</summary>
    public static IReadOnlyDictionary<string, Uri> VaultUris { get; } = Regions.All.ToDictionary(region => region, VaultUri);

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The requests of the client under test (not those a test sent itself as an operator).</summary>
    public IReadOnlyList<RecordedRequest> ClientRequests => [.. Requests.Where(request => !request.FromTest)];

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_gate)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>Every JWK private member (<c>d</c>, <c>p</c>, …) that appeared in any answer; must stay empty.</summary>
    public IReadOnlyList<string> PrivateKeyMembersServed()
    {
        lock (_gate)
        {
            return [.. _servedBodies.SelectMany(body => PropertyNames(JsonNode.Parse(body))).Where(JwkPrivateMembers.Contains)];
        }
    }

    /// <summary>How many versions a key has in a region's vault.</summary>
    public int VersionCount(string region, string keyName)
    {
        lock (_gate)
        {
            return _keys.TryGetValue(KeyPath(VaultUri(region).Host, keyName), out var versions) ? versions.Count : 0;
        }
    }

    public static async Task<FakeKeyVault> StartAsync(FakeEntraIdTokenCredential credential)
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        FakeKeyVault? vault = null;
        app.Run(context => vault!.HandleAsync(context));
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        vault = new FakeKeyVault(app, certificate, address.Port, credential);
        return vault;
    }

    /// <summary>
    /// The transport for clients of the fake: <c>*.vault.azure.net</c> connects to the fake's loopback port (and
    /// nothing else can be reached), and only the fake's own certificate is trusted, with its name checked.
    /// </summary>
    public SocketsHttpHandler CreateHandler()
    {
        var pin = _certificate.GetCertHash(HashAlgorithmName.SHA256);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                if (!context.DnsEndPoint.Host.EndsWith("." + VaultDomain, StringComparison.OrdinalIgnoreCase))
                {
                    throw new HttpRequestException($"The fake vault's transport reaches fake vaults only, not {context.DnsEndPoint.Host}.");
                }

                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, _port, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            certificate is not null
            && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
            && certificate.GetCertHash(HashAlgorithmName.SHA256).AsSpan().SequenceEqual(pin);
        return handler;
    }

    /// <summary>Azure.Core transport over <see cref="CreateHandler"/>.</summary>
    public HttpClientTransport CreateTransport() => new(CreateHandler());

    /// <summary>
    /// A request as another client of the vault would send it (an operator in the portal, another key server
    /// instance), with a valid token; recorded as the test's own, not the client's.
    /// </summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsTestClientAsync(HttpMethod method, Uri uri, string? json)
    {
        using var client = new HttpClient(CreateHandler(), disposeHandler: true);
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _credential.KeyVaultToken);
        request.Headers.Add(TestClientHeader, "1");
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, string.IsNullOrEmpty(text) ? null : JsonNode.Parse(text));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _certificate.Dispose();
        lock (_gate)
        {
            foreach (var version in _keys.Values.SelectMany(versions => versions))
            {
                version.Rsa.Dispose();
            }
        }
    }

    async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var host = request.Host.Host;
        var path = request.Path.Value ?? "";
        var authorization = Authorize(request.Headers.Authorization.ToString());
        JsonObject? json = null;
        var fields = new List<string>();
        if (body.Length > 0)
        {
            try
            {
                json = JsonNode.Parse(body) as JsonObject;
                fields.AddRange(json?.Select(pair => pair.Key) ?? []);
            }
            catch (JsonException)
            {
                json = null;
            }
        }

        var answer = Respond(request, host, path, authorization, body, json);
        var record = new RecordedRequest(host, request.Method, path, Operation(request.Method, path), request.Query["api-version"].ToString(),
            authorization, body.Length > 0, fields, Operation(request.Method, path) == "create" ? json?.ToJsonString() : null,
            answer.Status, request.Headers.ContainsKey(TestClientHeader));
        lock (_gate)
        {
            _requests.Add(record);
        }

        context.Response.StatusCode = answer.Status;
        if (answer.Challenge)
        {
            context.Response.Headers.WWWAuthenticate = $"Bearer authorization=\"https://login.microsoftonline.com/{TenantId}\", resource=\"{ChallengeResource}\"";
        }

        if (answer.Body is not null)
        {
            var text = answer.Body.ToJsonString();
            lock (_gate)
            {
                _servedBodies.Add(text);
            }

            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(text, context.RequestAborted);
        }
    }

    Answer Respond(HttpRequest request, string host, string path, Authorization authorization, string body, JsonObject? json)
    {
        if (!VaultUris.Values.Any(vault => string.Equals(vault.Host, host, StringComparison.OrdinalIgnoreCase)))
        {
            return OffSpec($"unknown vault host {host}");
        }

        var apiVersions = request.Query["api-version"];
        if (apiVersions.Count != 1 || apiVersions[0] != ApiVersion)
        {
            return OffSpec($"api-version '{apiVersions}' on {request.Method} {path}, expected {ApiVersion}");
        }

        if (authorization != Authorization.KeyVaultToken)
        {
            if (authorization == Authorization.None && body.Length > 0)
            {
                Violation($"{request.Method} {path}: a body was sent before the vault's challenge named the tenant and audience");
            }

            return new Answer(401, Error("Unauthorized", authorization == Authorization.None
                ? "AKV10000: Request is missing a Bearer or PoP token."
                : "AKV10022: Invalid audience."), Challenge: true);
        }

        if (body.Length > 0 && json is null)
        {
            return OffSpec($"{request.Method} {path}: the body is not a JSON object");
        }

        if (body.Length > 0 && !(request.ContentType ?? "").StartsWith("application/json", StringComparison.Ordinal))
        {
            return OffSpec($"{request.Method} {path}: Content-Type '{request.ContentType}', expected application/json");
        }

        if (HttpMethods.IsGet(request.Method) && body.Length > 0)
        {
            return OffSpec($"GET {path} with a body");
        }

        var segments = path.Split('/');
        if (segments is not ["", "keys", var name, ..] || !KeyName().IsMatch(name))
        {
            return OffSpec($"{request.Method} {path}: not a key operation CloudStore uses, or not a valid key name");
        }

        lock (_gate)
        {
            return (request.Method, segments[3..]) switch
            {
                ("POST", ["create"]) when _deleted.ContainsKey(KeyPath(host, name)) => new Answer(409, Error("Conflict",
                    $"Key {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the key can only be recovered or purged.")),
                ("POST", ["create"]) => Create(host, name, json),
                ("DELETE", [] or [""]) => body.Length == 0 ? Delete(host, name) : OffSpec("Delete Key takes no body"),
                ("POST", ["rotate"]) => body.Length == 0 ? Rotate(host, name) : OffSpec("Rotate Key takes no body"),
                ("GET", [] or [""]) => Get(host, name, null),
                ("GET", ["versions"]) => Versions(host, name, request.Query),
                ("GET", [var version]) when VersionId().IsMatch(version) => Get(host, name, version),
                ("POST", [var version, "unwrapkey"]) when VersionId().IsMatch(version) => Unwrap(host, name, version, json),
                _ => OffSpec($"{request.Method} {path}: not a key operation CloudStore uses"),
            };
        }
    }

    Answer Create(string host, string name, JsonObject? body)
    {
        if (body is null)
        {
            return OffSpec("Create Key without a body");
        }

        var problems = new List<string>();
        problems.AddRange(body.Select(pair => pair.Key).Where(field => !CreateFields.Contains(field)).Select(field => $"undocumented field '{field}'"));
        if (Text(body["kty"]) != "RSA-HSM")
        {
            problems.Add($"kty '{Text(body["kty"])}', expected RSA-HSM");
        }

        if (body["key_size"] is not JsonValue size || size.GetValueKind() != JsonValueKind.Number || size.GetValue<int>() != 2048)
        {
            problems.Add("key_size must be the number 2048");
        }

        if (body["public_exponent"] is { } exponent && (exponent.GetValueKind() != JsonValueKind.Number || exponent.GetValue<int>() != 65537))
        {
            problems.Add("public_exponent, when given, must be 65537");
        }

        var operations = body["key_ops"] is JsonArray ops && ops.All(op => op?.GetValueKind() == JsonValueKind.String)
            ? ops.Select(op => op!.GetValue<string>()).ToList()
            : null;
        if (operations is null || operations.Any(op => !DocumentedKeyOperations.Contains(op)))
        {
            problems.Add("key_ops must be an array of documented operations");
        }
        else if (!operations.Order(StringComparer.Ordinal).SequenceEqual(["unwrapKey", "wrapKey"]))
        {
            problems.Add($"key_ops [{string.Join(", ", operations)}], expected exactly wrapKey and unwrapKey");
        }

        if (body.ContainsKey("crv") || body.ContainsKey("release_policy"))
        {
            problems.Add("crv and release_policy do not belong to a non-exportable RSA key");
        }

        if (body["attributes"] is { } attributes)
        {
            if (attributes is not JsonObject attributeObject || attributeObject.Any(pair => !AttributeFields.Contains(pair.Key)))
            {
                problems.Add("attributes must be an object of documented attributes");
            }
            else if (attributeObject["exportable"] is { } exportable && exportable.GetValueKind() == JsonValueKind.True)
            {
                problems.Add("the key must not be exportable");
            }
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (body["tags"] is { } tagNode)
        {
            if (tagNode is not JsonObject tagObject || tagObject.Count > 15
                || tagObject.Any(pair => pair.Value?.GetValueKind() != JsonValueKind.String || pair.Value.GetValue<string>().Length > 256))
            {
                problems.Add("tags must be an object of at most 15 string values of at most 256 characters");
            }
            else
            {
                foreach (var (tag, value) in tagObject)
                {
                    tags[tag] = value!.GetValue<string>();
                }
            }
        }

        if (problems.Count > 0)
        {
            return OffSpec("Create Key: " + string.Join("; ", problems));
        }

        return new Answer(200, Bundle(host, name, AddVersion(host, name, tags)));
    }

    /// <summary>Delete Key: all versions leave service at once and wait, soft-deleted, for the retention period.</summary>
    Answer Delete(string host, string name)
    {
        var path = KeyPath(host, name);
        if (!_keys.Remove(path, out var versions))
        {
            return NotFound(name);
        }

        _deleted[path] = versions;
        return new Answer(200, new JsonObject { ["recoveryId"] = $"https://{host}/deletedkeys/{name}", ["key"] = new JsonObject { ["kid"] = $"https://{host}/keys/{name}" } });
    }

    /// <summary>Rotate Key: a new version like the current one. Tags are not carried over (the fake's assumption).</summary>
    Answer Rotate(string host, string name) =>
        _keys.ContainsKey(KeyPath(host, name))
            ? new Answer(200, Bundle(host, name, AddVersion(host, name, [])))
            : NotFound(name);

    Answer Get(string host, string name, string? version)
    {
        if (!_keys.TryGetValue(KeyPath(host, name), out var versions))
        {
            return NotFound(name);
        }

        var found = version is null ? versions[^1] : versions.SingleOrDefault(v => v.Id == version);
        return found is null ? NotFound(name) : new Answer(200, Bundle(host, name, found));
    }

    Answer Versions(string host, string name, IQueryCollection query)
    {
        var pageSize = VersionsPageSize;
        if (query.ContainsKey("maxresults"))
        {
            if (!int.TryParse(query["maxresults"], NumberStyles.None, CultureInfo.InvariantCulture, out var maxResults) || maxResults is < 1 or > 25)
            {
                return OffSpec($"maxresults '{query["maxresults"]}', documented range 1 to 25");
            }

            pageSize = Math.Min(pageSize, maxResults);
        }

        if (query.Keys.Any(key => key is not ("api-version" or "maxresults" or "$skiptoken")))
        {
            return OffSpec("Get Key Versions with an undocumented query parameter");
        }

        if (!_keys.TryGetValue(KeyPath(host, name), out var versions))
        {
            return NotFound(name);
        }

        var skip = 0;
        if (query.ContainsKey("$skiptoken") && !int.TryParse(Encoding.UTF8.GetString(Convert.FromBase64String(query["$skiptoken"].ToString())), CultureInfo.InvariantCulture, out skip))
        {
            return OffSpec("a $skiptoken the vault did not issue");
        }

        var page = versions.Skip(skip).Take(pageSize).ToList();
        var items = new JsonArray([.. page.Select(version => (JsonNode)Item(host, name, version))]);
        var result = new JsonObject { ["value"] = items };
        if (skip + page.Count < versions.Count)
        {
            var token = Uri.EscapeDataString(Convert.ToBase64String(Encoding.UTF8.GetBytes((skip + page.Count).ToString(CultureInfo.InvariantCulture))));
            result["nextLink"] = $"https://{host}:443/keys/{name}/versions?api-version={ApiVersion}&$skiptoken={token}&maxresults={pageSize}";
        }
        else
        {
            result["nextLink"] = null;
        }

        return new Answer(200, result);
    }

    Answer Unwrap(string host, string name, string version, JsonObject? body)
    {
        if (body is null)
        {
            return OffSpec("Unwrap Key without a body");
        }

        var problems = new List<string>();
        problems.AddRange(body.Select(pair => pair.Key).Where(field => !UnwrapFields.Contains(field)).Select(field => $"undocumented field '{field}'"));
        if (Text(body["alg"]) != "RSA-OAEP-256")
        {
            problems.Add($"alg '{Text(body["alg"])}', expected RSA-OAEP-256");
        }

        if (body.ContainsKey("iv") || body.ContainsKey("aad") || body.ContainsKey("tag"))
        {
            problems.Add("iv, aad and tag belong to symmetric algorithms");
        }

        var value = Text(body["value"]);
        byte[]? ciphertext = null;
        if (value is null || !Base64UrlText().IsMatch(value))
        {
            problems.Add("value must be base64url without padding");
        }
        else
        {
            ciphertext = System.Buffers.Text.Base64Url.DecodeFromChars(value);
            if (ciphertext.Length != 256)
            {
                problems.Add($"value holds {ciphertext.Length} bytes, an RSA-2048 ciphertext has 256");
            }
        }

        if (problems.Count > 0)
        {
            return OffSpec("Unwrap Key: " + string.Join("; ", problems));
        }

        var stored = _keys.TryGetValue(KeyPath(host, name), out var versions) ? versions.SingleOrDefault(v => v.Id == version) : null;
        if (stored is null)
        {
            return NotFound(name);
        }

        if (!stored.Operations.Contains("unwrapKey"))
        {
            return new Answer(400, Error("BadParameter", "Operation unwrapKey is not permitted on this key."));
        }

        try
        {
#pragma warning disable RS0030 // This is the vault: the private key is used here and only here, with OAEP-SHA256.
            var plaintext = stored.Rsa.Decrypt(ciphertext!, RSAEncryptionPadding.OaepSHA256);
#pragma warning restore RS0030
            return new Answer(200, new JsonObject { ["kid"] = Kid(host, name, stored.Id), ["value"] = System.Buffers.Text.Base64Url.EncodeToString(plaintext) });
        }
        catch (CryptographicException)
        {
            return new Answer(400, Error("BadParameter", "Unable to decrypt specified value with this key."));
        }
    }

    StoredVersion AddVersion(string host, string name, Dictionary<string, string> tags)
    {
        var version = new StoredVersion(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), RSA.Create(2048), ["wrapKey", "unwrapKey"], tags,
            TimeProvider.System.GetUtcNow().ToUnixTimeSeconds());
        var path = KeyPath(host, name);
        if (!_keys.TryGetValue(path, out var versions))
        {
            _keys[path] = versions = [];
        }

        versions.Add(version);
        return version;
    }

    static JsonObject Bundle(string host, string name, StoredVersion version)
    {
        var parameters = version.Rsa.ExportParameters(includePrivateParameters: false);
        var bundle = new JsonObject
        {
            ["key"] = new JsonObject
            {
                ["kid"] = Kid(host, name, version.Id),
                ["kty"] = "RSA-HSM",
                ["key_ops"] = new JsonArray([.. version.Operations.Select(op => (JsonNode)op)]),
                ["n"] = System.Buffers.Text.Base64Url.EncodeToString(parameters.Modulus),
                ["e"] = System.Buffers.Text.Base64Url.EncodeToString(parameters.Exponent),
            },
            ["attributes"] = Attributes(version),
        };
        if (version.Tags.Count > 0)
        {
            bundle["tags"] = Tags(version);
        }

        return bundle;
    }

    static JsonObject Item(string host, string name, StoredVersion version)
    {
        var item = new JsonObject { ["kid"] = Kid(host, name, version.Id), ["attributes"] = Attributes(version) };
        if (version.Tags.Count > 0)
        {
            item["tags"] = Tags(version);
        }

        return item;
    }

    static JsonObject Attributes(StoredVersion version) => new()
    {
        ["enabled"] = true,
        ["created"] = version.Created,
        ["updated"] = version.Created,
        ["recoveryLevel"] = "Recoverable+Purgeable",
        ["recoverableDays"] = 90,
    };

    static JsonObject Tags(StoredVersion version) => new([.. version.Tags.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value))]);

    static string Kid(string host, string name, string version) => $"https://{host}/keys/{name}/{version}";

    static string KeyPath(string host, string name) => host + "/" + name;

    static Answer NotFound(string name) => new(404, Error("KeyNotFound", $"A key with (name/id) {name} was not found in this key vault."));

    Answer OffSpec(string what)
    {
        Violation(what);
        return new Answer(400, Error("BadParameter", "FAKE KEY VAULT, off-spec request: " + what));
    }

    void Violation(string what)
    {
        lock (_gate)
        {
            _violations.Add(what);
        }
    }

    Authorization Authorize(string header)
    {
        if (string.IsNullOrEmpty(header))
        {
            return Authorization.None;
        }

        return header.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..]), Encoding.UTF8.GetBytes(_credential.KeyVaultToken))
            ? Authorization.KeyVaultToken
            : Authorization.OtherToken;
    }

    static JsonObject Error(string code, string message) => new() { ["error"] = new JsonObject { ["code"] = code, ["message"] = message } };

    static string? Text(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    static string Operation(string method, string path) => (method, path.Split('/')) switch
    {
        ("POST", ["", "keys", _, "create"]) => "create",
        ("POST", ["", "keys", _, "rotate"]) => "rotate",
        ("GET", ["", "keys", _, "versions"]) => "versions",
        ("GET", ["", "keys", _] or ["", "keys", _, _]) => "get",
        ("POST", ["", "keys", _, _, "unwrapkey"]) => "unwrapkey",
        ("DELETE", ["", "keys", _]) => "delete",
        _ => $"other: {method} {path}",
    };

    static IEnumerable<string> PropertyNames(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(pair => PropertyNames(pair.Value).Prepend(pair.Key)),
        JsonArray array => array.SelectMany(PropertyNames),
        _ => [],
    };

    static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=*.{VaultDomain}, O=CloudStore tests (fake Key Vault)", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("*." + VaultDomain);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = TimeProvider.System.GetUtcNow();
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    [GeneratedRegex(@"^[0-9a-zA-Z-]{1,127}\z")]
    private static partial Regex KeyName();

    [GeneratedRegex(@"^[0-9a-f]{32}\z")]
    private static partial Regex VersionId();

    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z")]
    private static partial Regex Base64UrlText();

    public enum Authorization
    {
        None,
        KeyVaultToken,
        OtherToken,
    }

    /// <summary>One request as the fake saw it. Values of key material are never recorded, only field names (and create bodies, which hold none).</summary>
    public sealed record RecordedRequest(string Host, string Method, string Path, string Operation, string ApiVersion, Authorization Authorization,
        bool HadBody, IReadOnlyList<string> BodyFields, string? CreateBody, int Status, bool FromTest);

    sealed record StoredVersion(string Id, RSA Rsa, IReadOnlyList<string> Operations, Dictionary<string, string> Tags, long Created);

    /// <summary>The fake vault's answer to one request.</summary>
    sealed record Answer(int Status, JsonObject? Body, bool Challenge = false);
}

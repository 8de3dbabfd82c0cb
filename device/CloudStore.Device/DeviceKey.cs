using System.Security.Cryptography;
using CloudStore.Contracts;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.Device;

/// <summary>
/// The device's own ECDSA P-256 key. Made on the device, kept on the device (a 0600 PEM file here,
/// a secure element on a real camera); only its public half is ever sent, once, at enrolment.
/// </summary>
public sealed class DeviceKey : IDisposable
{
    static readonly TimeSpan AssertionLifetime = TimeSpan.FromSeconds(60);
    readonly ECDsa _key;
    readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    DeviceKey(ECDsa key) => _key = key;

    public static DeviceKey Create() => new(ECDsa.Create(ECCurve.NamedCurves.nistP256));

    public static DeviceKey LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var key = ECDsa.Create();
            key.ImportFromPem(File.ReadAllText(path));
            return new DeviceKey(key);
        }

        var created = Create();
        PrivateFile.Write(path, created._key.ExportPkcs8PrivateKeyPem());
        return created;
    }

    /// <summary>SubjectPublicKeyInfo (DER), base64: what enrolment registers.</summary>
    public string PublicKeyBase64 => Convert.ToBase64String(_key.ExportSubjectPublicKeyInfo());

    /// <summary>
    /// A single-use client assertion (RFC 7523 §3): iss = sub = the device id, aud = the token
    /// endpoint, valid for one minute, with a random jti so that a replay is detectable, and the
    /// firmware the device runs (<see cref="DeviceTokenRequest.FirmwareClaim"/>), signed with the rest.
    /// </summary>
    public string CreateAssertion(Guid deviceId, string audience, DateTimeOffset now, string firmwareVersion = DeviceClientOptions.DefaultFirmwareVersion)
    {
        var subject = deviceId.ToString();
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = subject,
            Audience = audience,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = subject,
                [JwtRegisteredClaimNames.Jti] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
                [DeviceTokenRequest.FirmwareClaim] = firmwareVersion,
            },
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + AssertionLifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(_key), SecurityAlgorithms.EcdsaSha256),
        });
    }

    public void Dispose() => _key.Dispose();
}

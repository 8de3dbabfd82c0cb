using System.Text.Json.Serialization;

namespace CloudStore.Contracts;

/// <summary>A device enrols once: the administrator's one-time code, its serial, and its own ECDSA P-256 public key.</summary>
/// <param name="PublicKey">SubjectPublicKeyInfo (DER), base64.</param>
public sealed record EnrolDeviceRequest(string EnrolmentCode, string Serial, string PublicKey);

public sealed record EnrolDeviceResponse(Guid DeviceId, Guid OrganizationId, string TokenEndpoint, string AssertionAudience);

/// <summary>RFC 7523 §2.2 client authentication: a JWT signed by the device's key.</summary>
public sealed record DeviceTokenRequest(
    [property: JsonPropertyName("client_assertion_type")] string ClientAssertionType,
    [property: JsonPropertyName("client_assertion")] string ClientAssertion)
{
    public const string JwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    /// <summary>
    /// The assertion claim carrying the device's firmware version (e.g. <c>"11.11.73"</c>, a string of two to
    /// four dot-separated numbers). Signed with the device's key, so only the device itself can report it.
    /// </summary>
    public const string FirmwareClaim = "firmware";
}

public sealed record DeviceSelfResponse(Guid DeviceId, Guid OrganizationId, string Serial, string Status, IReadOnlyList<CameraResponse> Cameras);

namespace CloudStore.Hosting;

/// <summary>The <c>Tls</c> configuration section every host reads.</summary>
public sealed class TlsOptions
{
    public const string Section = "Tls";

    /// <summary>PEM server certificate (leaf first, then any intermediates).</summary>
    public string? CertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="CertificateFile"/>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// PEM certificate of a private CA that outbound HTTPS calls (storage, JWKS) trust in addition to
    /// nothing else: set locally, where every endpoint carries a certificate from the local CA.
    /// Unset in the cloud, where the system's roots apply.
    /// </summary>
    public string? CaCertificateFile { get; set; }
}

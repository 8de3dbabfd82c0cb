using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace CloudStore.Contracts;

/// <summary>Outbound HTTPS handlers: TLS 1.2+ and, locally, trust in the local CA only.</summary>
public static class TrustedHttp
{
    /// <param name="caCertificateFile">
    /// A PEM CA certificate to trust instead of the system roots, or null for the system roots.
    /// </param>
    public static SocketsHttpHandler CreateHandler(string? caCertificateFile)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        handler.SslOptions.EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
        if (!string.IsNullOrEmpty(caCertificateFile))
        {
            var policy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            policy.CustomTrustStore.Add(X509Certificate2.CreateFromPem(File.ReadAllText(caCertificateFile)));
            handler.SslOptions.CertificateChainPolicy = policy;
        }

        return handler;
    }
}

using CloudStore.Contracts;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CloudStore.LocalStack;

/// <summary>PEM files of the local CA and the loopback server certificate it signs.</summary>
public sealed record CertificateFiles(string CaCertificate, string ServerCertificate, string ServerKey);

/// <summary>
/// A private CA made on first run, and one server certificate for localhost, 127.0.0.1 and ::1 that
/// every local endpoint presents (Azurite and the hosts). Clients trust the CA explicitly
/// (<c>Tls:CaCertificateFile</c>); nothing is added to the machine's trust store. ECDSA P-256, as the
/// TLS policy prefers.
/// </summary>
public static class DevelopmentCertificates
{
    /// <summary>Reuses the files in <paramref name="folder"/> while the server certificate has a week left, else makes new ones.</summary>
    public static CertificateFiles Ensure(string folder, TimeProvider time)
    {
        Directory.CreateDirectory(folder);
        var files = new CertificateFiles(
            Path.Combine(folder, "ca.pem"),
            Path.Combine(folder, "server.pem"),
            Path.Combine(folder, "server.key"));
        var now = time.GetUtcNow();
        if (File.Exists(files.CaCertificate) && File.Exists(files.ServerCertificate) && File.Exists(files.ServerKey))
        {
            using var existing = X509Certificate2.CreateFromPem(File.ReadAllText(files.ServerCertificate));
            if (existing.NotAfter.ToUniversalTime() > now.UtcDateTime.AddDays(7))
            {
                return files;
            }
        }

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=CloudStore Local CA, O=CloudStore development", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(2));

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddIpAddress(System.Net.IPAddress.IPv6Loopback);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var server = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(397), serial);

        // The CA's private key is not kept: nothing else will ever be signed with it.
        PrivateFile.Write(files.ServerKey, serverKey.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(files.ServerCertificate, server.ExportCertificatePem() + "\n");
        File.WriteAllText(files.CaCertificate, ca.ExportCertificatePem() + "\n");
        return files;
    }
}

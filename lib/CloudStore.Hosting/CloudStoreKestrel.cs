using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;

namespace CloudStore.Hosting;

/// <summary>How every CloudStore host listens.</summary>
public static class CloudStoreKestrel
{
    /// <summary>
    /// HTTPS only, TLS 1.2 and 1.3, on the addresses given by <c>--urls</c>/<c>ASPNETCORE_URLS</c>. (The
    /// Azure Functions app does not use this: the Functions front end terminates TLS, minimum 1.2 as set in
    /// infra/azure, and the worker's own server is the Functions host's business.)
    /// </summary>
    public static WebApplicationBuilder UseCloudStoreKestrel(this WebApplicationBuilder builder, long maxRequestBodyBytes)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = maxRequestBodyBytes;
            var tls = builder.Configuration.GetSection(TlsOptions.Section).Get<TlsOptions>() ?? new TlsOptions();
            if (string.IsNullOrEmpty(tls.CertificateFile) || string.IsNullOrEmpty(tls.KeyFile))
            {
                throw new InvalidOperationException(
                    "Tls:CertificateFile and Tls:KeyFile must name a PEM certificate and key: CloudStore hosts serve HTTPS only.");
            }

            var certificate = LoadServerCertificate(tls.CertificateFile, tls.KeyFile);
            kestrel.ConfigureHttpsDefaults(https =>
            {
                https.ServerCertificate = certificate;
                https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
            });
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = HttpProtocols.Http1AndHttp2);
        });

        RefusePlainHttpUrls(builder.Configuration);

        return builder;
    }

    static void RefusePlainHttpUrls(IConfiguration configuration)
    {
        var urls = configuration[WebHostDefaults.ServerUrlsKey] ?? string.Empty;
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"Refusing to listen on '{url}': CloudStore hosts serve HTTPS only.");
            }
        }
    }

    static X509Certificate2 LoadServerCertificate(string certificateFile, string keyFile)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        // Kestrel on Linux needs the key in a form SslStream can use; a PKCS#12 round trip gives it one.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
    }
}

using Azure.Core;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>
/// The HTTP pipeline options of <see cref="AzureKeyVaultKeyStore"/> (Azure.Core's retries, timeouts, transport and
/// diagnostics). Retries cover throttling (429), 408 and 5xx answers and network failures, with exponential back-off;
/// a slow vault fails a request within seconds instead of holding a player's key request for Azure.Core's default 100 s.
/// Request and response bodies are never logged (they carry wrapped and unwrapped keys); Azure.Core never logs the
/// <c>Authorization</c> header.
/// </summary>
public sealed class AzureKeyVaultClientOptions : ClientOptions
{
    public AzureKeyVaultClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 3;
        Retry.Delay = TimeSpan.FromMilliseconds(400);
        Retry.MaxDelay = TimeSpan.FromSeconds(8);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(15);
        Diagnostics.IsLoggingContentEnabled = false;
        Diagnostics.ApplicationId = "cloudstore-keyserver";
    }
}

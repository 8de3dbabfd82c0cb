using System.Text.Json;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.LocalStack;

namespace CloudStore.Tests.Infrastructure;

/// <summary>One message as maildev received it.</summary>
public sealed partial record ReceivedMail(string Id, DateTimeOffset Time, string From, IReadOnlyList<string> To, string Subject, string Text)
{
    /// <summary>The one-time token of the account link the message carries (the <c>token</c> query parameter).</summary>
    public string LinkToken => Uri.UnescapeDataString(TokenPattern().Match(Text) is { Success: true } match ? match.Groups[1].Value
        : throw new InvalidOperationException($"No link with a token in the mail \"{Subject}\"."));

    /// <summary>The link itself, as the reader would click it.</summary>
    public Uri Link => new(LinkPattern().Match(Text) is { Success: true } match ? match.Value
        : throw new InvalidOperationException($"No link in the mail \"{Subject}\"."));

    [GeneratedRegex(@"[?&]token=([A-Za-z0-9_\-%]+)")]
    private static partial Regex TokenPattern();

    [GeneratedRegex(@"https://\S+")]
    private static partial Regex LinkPattern();
}

/// <summary>
/// A maildev inbox read through its REST API (<c>GET /api/email?to.address=…</c>), as a person reads their mail:
/// the tests follow the links that really arrived over SMTP, never a token taken from the server's inside.
/// </summary>
public sealed class MailInbox(HttpClient http) : IDisposable
{
    /// <summary>The inbox of the shared mail server the in-process functions send to.</summary>
    public static async Task<MailInbox> ForTestsAsync()
    {
        var server = await TestMailServer.StartedAsync();
        return new MailInbox(new HttpClient(TrustedHttp.CreateHandler(null)) { BaseAddress = server.WebUrl });
    }

    /// <summary>The inbox of a local stack's mail server (HTTPS with the stack's CA).</summary>
    public static MailInbox ForStack(LocalCloud cloud) =>
        new(new HttpClient(TrustedHttp.CreateHandler(cloud.Certificates.CaCertificate)) { BaseAddress = cloud.Mail.WebUrl });

    /// <summary>Every message to <paramref name="recipient"/>, oldest first.</summary>
    public async Task<IReadOnlyList<ReceivedMail>> ForAsync(string recipient)
    {
        using var response = await http.GetAsync(new Uri($"api/email?to.address={Uri.EscapeDataString(recipient)}", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. json.RootElement.EnumerateArray().Select(Read).OrderBy(m => m.Time)];
    }

    /// <summary>Waits until <paramref name="recipient"/> has <paramref name="count"/> messages; returns the newest.</summary>
    public async Task<ReceivedMail> WaitForAsync(string recipient, int count = 1)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(15);
        while (true)
        {
            var received = await ForAsync(recipient);
            if (received.Count >= count)
            {
                return received[^1];
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"{recipient} had {received.Count} message(s), not {count}, within 15 s.");
            }

            await Task.Delay(100);
        }
    }

    static ReceivedMail Read(JsonElement mail) => new(
        mail.GetProperty("id").GetString()!,
        mail.GetProperty("time").GetDateTimeOffset(),
        mail.GetProperty("from")[0].GetProperty("address").GetString()!,
        [.. mail.GetProperty("to").EnumerateArray().Select(to => to.GetProperty("address").GetString()!)],
        mail.GetProperty("subject").GetString() ?? "",
        mail.TryGetProperty("text", out var text) ? text.GetString() ?? "" : "");

    public void Dispose() => http.Dispose();
}

/// <summary>
/// One maildev for the whole test run, on loopback with plain SMTP (the in-process functions allow no TLS only to
/// loopback), started on first use and stopped when the test process exits. Its ports are fixed up front so every
/// <see cref="FunctionsFactory"/> can be configured before the server has started.
/// </summary>
public static class TestMailServer
{
    static readonly Lazy<Task<MailDev>> Server = new(StartAsync);
    static readonly int WebPort = ChildProcess.FreePort();

    public static int SmtpPort { get; } = ChildProcess.FreePort();

    public static Task<MailDev> StartedAsync() => Server.Value;

    static async Task<MailDev> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("cloudstore-mail-").FullName;
        var server = await MailDev.StartAsync(null, Path.Combine(folder, "mail"), Path.Combine(folder, "maildev.log"), CancellationToken.None, SmtpPort, WebPort);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            Directory.Delete(folder, recursive: true);
        };
        return server;
    }
}

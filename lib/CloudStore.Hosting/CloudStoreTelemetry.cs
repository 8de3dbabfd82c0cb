using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace CloudStore.Hosting;

/// <summary>
/// The telemetry sources every host shares: one <see cref="ActivitySource"/> and one <see cref="Meter"/>,
/// both named <see cref="Name"/> and listened to by <see cref="ServiceDefaults"/>. A span or instrument
/// made from these carries no URL query, token, key or password (the same rule as for logs).
/// </summary>
public static class CloudStoreTelemetry
{
    public const string Name = "CloudStore";

    public static ActivitySource ActivitySource { get; } = new(Name);

    public static Meter Meter { get; } = new(Name);

    /// <summary>Marks an outgoing request as a health probe, so it makes no client span.</summary>
    internal static readonly HttpRequestOptionsKey<bool> HealthProbe = new("CloudStore.HealthProbe");

    /// <summary>
    /// <paramref name="uri"/> without its query and fragment: storage URLs carry their SAS signature or
    /// presigned signature there, other URLs sometimes a token.
    /// </summary>
    public static string? WithoutQuery(Uri? uri) => uri switch
    {
        null => null,
        { IsAbsoluteUri: true } => uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped),
        _ => uri.OriginalString.Split('?', '#')[0],
    };
}

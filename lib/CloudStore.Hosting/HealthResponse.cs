using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CloudStore.Hosting;

/// <summary>
/// The health report as JSON: overall status and, per check, its status and description. Exception
/// text never appears (it may name files, hosts or connection strings); a check that threw reports the
/// exception's type only.
/// </summary>
public static class HealthResponse
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status.ToString());
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString());
            json.WriteString("description", Description(entry));
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    /// <summary>
    /// The check's own description. When a check throws, the health service makes the exception's
    /// message the description: that is replaced by the exception's type.
    /// </summary>
    static string? Description(HealthReportEntry entry) => entry.Exception switch
    {
        null => entry.Description,
        { } exception when entry.Description is null || entry.Description == exception.Message => $"failed ({exception.GetType().Name})",
        _ => entry.Description,
    };
}

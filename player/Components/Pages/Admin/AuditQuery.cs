using System.Globalization;
using System.Security.Claims;
using System.Text;
using CloudStore.Contracts;
using CloudStore.Player.Session;

namespace CloudStore.Player.Components.Pages.Admin;

/// <summary>The audit page's filters as a query string, and its CSV download.</summary>
public static class AuditQuery
{
    /// <summary>
    /// The filters as query parameters: for the API (<paramref name="raw"/> false: times as UTC ISO 8601) or for the
    /// page's own links (as the form sent them). Empty filters are left out.
    /// </summary>
    public static string Of(string? from, string? to, string? actor, string? action, string? target, bool raw = false)
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parts.Add($"{name}={Uri.EscapeDataString(value.Trim())}");
            }
        }

        Add("from", raw ? from : Utc(from));
        Add("to", raw ? to : Utc(to));
        Add("actor", actor);
        Add("action", action);
        Add("target", target);
        return string.Join('&', parts);
    }

    /// <summary>A <c>datetime-local</c> value read as UTC (the page says so); anything else is passed on for the API to refuse.</summary>
    static string? Utc(string? local) =>
        DateTime.TryParse(local, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)
            : local;

    /// <summary>
    /// <c>GET /admin/audit.csv</c>: every entry the filters match, newest first, paged through the API 1,000 at a time and
    /// written as they come. Administrators only (the API checks again). Cells that a spreadsheet would run as a formula
    /// are prefixed with an apostrophe (CSV injection).
    /// </summary>
    public static IEndpointRouteBuilder MapAuditCsv(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/audit.csv", async (HttpContext context, PlayerSessions sessions, FunctionsApi api, TimeProvider time, string? from, string? to, string? actor, string? action, string? target) =>
        {
            var cancellationToken = context.RequestAborted;
            var sessionId = context.User.FindFirstValue(SessionCookie.SessionIdClaim);
            var filters = Of(from, to, actor, action, target);
            long? before = null;
            var wroteHeader = false;
            while (true)
            {
                var token = await sessions.AccessTokenAsync(sessionId, Audiences.Api, cancellationToken);
                if (token is null)
                {
                    return wroteHeader ? Results.Empty : Results.Unauthorized();
                }

                var page = await api.GetAsync<List<AuditEntryResponse>>($"api/audit?{filters}&limit=1000{(before is { } id ? $"&before={id}" : "")}", token.AccessToken, cancellationToken);
                if (page.Value is null)
                {
                    return wroteHeader ? Results.Empty : Results.Problem(title: page.Title, detail: page.Detail, statusCode: page.Status);
                }

                if (!wroteHeader)
                {
                    context.Response.ContentType = "text/csv; charset=utf-8";
                    context.Response.Headers.ContentDisposition = $"attachment; filename=\"audit-{time.GetUtcNow():yyyyMMdd-HHmmss}.csv\"";
                    context.Response.Headers.CacheControl = "no-store";
                    await context.Response.WriteAsync("id,time,actor,source_address,action,target,outcome\r\n", cancellationToken);
                    wroteHeader = true;
                }

                var lines = new StringBuilder();
                foreach (var entry in page.Value)
                {
                    lines.Append(entry.Id.ToString(CultureInfo.InvariantCulture)).Append(',')
                        .Append(entry.Time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)).Append(',')
                        .Append(Cell(entry.Actor)).Append(',').Append(Cell(entry.SourceAddress)).Append(',')
                        .Append(Cell(entry.Action)).Append(',').Append(Cell(entry.Target)).Append(',').Append(Cell(entry.Outcome)).Append("\r\n");
                }

                await context.Response.WriteAsync(lines.ToString(), cancellationToken);
                if (page.Value.Count < 1000)
                {
                    return Results.Empty;
                }

                before = page.Value[^1].Id;
            }
        }).RequireAuthorization(policy => policy.RequireRole(Roles.Administrator));
        return app;
    }

    /// <summary>One CSV cell (RFC 4180 quoting), defused if a spreadsheet would take it for a formula.</summary>
    public static string Cell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }
}

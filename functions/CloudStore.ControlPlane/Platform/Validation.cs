using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudStore.ControlPlane.Platform;

/// <summary>
/// Collects field errors at the edge; turns them into one validation problem (400). Fields are named as the JSON
/// names them (camelCase: <c>nameof(request.CaseReference)</c> is reported as <c>caseReference</c>).
/// </summary>
public sealed class Validation
{
    readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);
    string? _detail;

    public bool HasErrors => _errors.Count > 0;

    /// <summary>The fields in error, each with its messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors => _errors;

    public Validation Add(string field, string message)
    {
        field = JsonNamingPolicy.CamelCase.ConvertName(field);
        _errors[field] = _errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
        return this;
    }

    /// <summary>Requires printable text of 1..<paramref name="maxLength"/> characters with no control characters.</summary>
    public Validation Text(string field, [NotNull] string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            Add(field, "Required.");
        }
        else if (value.Length > maxLength)
        {
            Add(field, $"At most {maxLength} characters.");
        }
        else if (value.Any(char.IsControl))
        {
            Add(field, "Control characters are not allowed.");
        }

        value ??= string.Empty;
        return this;
    }

    /// <summary>
    /// Requires a time range within <see cref="TimeBounds"/>, in order, and (with <paramref name="maxLength"/>) at most that
    /// long; an end not given is not checked. Its errors carry a detail stating the whole rule.
    /// </summary>
    public Validation TimeRange(string fromField, DateTimeOffset? from, string toField, DateTimeOffset? to, TimeSpan? maxLength)
    {
        var refused = false;
        foreach (var (field, time) in new[] { (fromField, from), (toField, to) })
        {
            if (time is { } value && !TimeBounds.Contains(value))
            {
                Add(field, $"From {TimeBounds.Allowed}.");
                refused = true;
            }
        }

        var order = maxLength is { } max
            ? string.Create(CultureInfo.InvariantCulture, $"'{toField}' after '{fromField}', at most {max.TotalDays:0} days later")
            : $"'{fromField}' not after '{toField}'";
        if (from is { } start && to is { } end && (maxLength is { } longest ? end <= start || end - start > longest : start > end))
        {
            Add(toField, order + ".");
            refused = true;
        }

        if (refused)
        {
            _detail = $"Times are accepted from {TimeBounds.Allowed}, with {order}.";
        }

        return this;
    }

    public ValidationProblem Problem() => TypedResults.ValidationProblem(_errors, _detail);
}

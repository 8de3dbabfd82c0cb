using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudStore.ControlPlane.Platform;

/// <summary>Collects field errors at the edge; turns them into one validation problem (400).</summary>
public sealed class Validation
{
    readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool HasErrors => _errors.Count > 0;

    /// <summary>The fields in error, each with its messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors => _errors;

    public Validation Add(string field, string message)
    {
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

    public ValidationProblem Problem() => TypedResults.ValidationProblem(_errors);
}

using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace CloudStore.Hosting;

/// <summary>
/// A request the framework could not bind is answered 400 with a validation problem whose <c>errors</c> name each field
/// and why, where a bare "Bad Request" said neither: a body that is not JSON or not an object, a field missing, of the
/// wrong type, null where none is allowed or unknown to the request; a query value missing or that does not parse.
/// Fields are named as the client sent them: the JSON path without <c>$.</c> (<c>segments[3].media.sha256</c>),
/// <c>body</c> for the body as a whole, the parameter's name for a query value.
/// </summary>
/// <remarks>
/// Minimal APIs throw <see cref="BadHttpRequestException"/> for these (<c>RouteHandlerOptions.ThrowOnBadRequest</c>,
/// which <see cref="ProblemResponses.AddCloudStoreProblemDetails"/> turns on); the exception carries System.Text.Json's
/// <see cref="JsonException"/>, whose <see cref="JsonException.Path"/> locates the field. What is at that path comes from the
/// serializer's own contract for the endpoint's request type. Handled here, such a request is not logged as an error.
/// </remarks>
public sealed class BindingProblems(IProblemDetailsService problems, IOptions<JsonOptions> json) : IExceptionHandler
{
    /// <summary>The field that stands for the request body as a whole.</summary>
    public const string Body = "body";

    static readonly string[] Required = ["Required."];

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } bad)
        {
            return false;
        }

        Dictionary<string, string[]>? errors;
        try
        {
            errors = Errors(bad, httpContext, json.Value.SerializerOptions);
        }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            // A request type the contract cannot describe: still a 400, naming the body.
            errors = One(Body, "The body could not be read as this request.");
        }

        if (errors is not { Count: > 0 })
        {
            return false;
        }

        httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new HttpValidationProblemDetails(errors)
            {
                Status = StatusCodes.Status400BadRequest,
                Detail = "The request could not be read: see errors for each field and why.",
            },
        });
    }

    static Dictionary<string, string[]>? Errors(BadHttpRequestException bad, HttpContext context, JsonSerializerOptions options)
    {
        // The exception handler has taken the endpoint and route values off the request; its feature keeps them.
        var failed = context.Features.Get<IExceptionHandlerFeature>();
        var endpoint = failed?.Endpoint ?? context.GetEndpoint();
        var bodyType = endpoint?.Metadata.GetOrderedMetadata<IAcceptsMetadata>().Select(a => a.RequestType).FirstOrDefault(t => t is not null);
        switch (bad.InnerException)
        {
            case JsonException { InnerException: JsonException reader } malformed:
                // The reader's own exception: the text is not JSON (its message gives the line and byte).
                return One(FieldOf(malformed.Path), $"Not valid JSON: {reader.Message}");
            case JsonException mismatch when bodyType is not null:
                return BodyErrors(mismatch, bodyType, options);
            case null:
                // A parameter the framework names in its message ("Type name", or the name alone for a missing body):
                // the body, or a query or route value.
                var parameter = endpoint?.Metadata.GetMetadata<MethodInfo>()?.GetParameters()
                    .FirstOrDefault(p => p.Name is { } name
                        && (bad.Message.Contains($" {name}\"", StringComparison.Ordinal) || bad.Message.Contains($"\"{name}\"", StringComparison.Ordinal)));
                if (parameter is null)
                {
                    return null;
                }

                if (parameter.ParameterType == bodyType)
                {
                    return One(Body, "A JSON object is required.");
                }

                var field = parameter.Name!;
                return context.Request.Query.ContainsKey(field) || failed?.RouteValues?.ContainsKey(field) is true
                    ? One(field, $"Expected {Kind(parameter.ParameterType)}.")
                    : new(StringComparer.Ordinal) { [field] = Required };
            default:
                return null;
        }
    }

    /// <summary>What is wrong at the exception's path, from the request type's JSON contract.</summary>
    static Dictionary<string, string[]> BodyErrors(JsonException exception, Type bodyType, JsonSerializerOptions options)
    {
        var field = FieldOf(exception.Path);
        var at = Resolve(options, bodyType, exception.Path);
        if (at.Unknown)
        {
            return One(field, "Not a field of this request.");
        }

        if (at.Type is { } type && options.GetTypeInfo(type) is { Kind: JsonTypeInfoKind.Object } info)
        {
            // An object that did bind as one but lacks required properties: System.Text.Json lists them, quoted, in its
            // message. Those of the contract that it names are the ones missing.
            var missing = info.Properties.Where(p => exception.Message.Contains($"'{p.Name}'", StringComparison.Ordinal)).ToList();
            if (missing.Count > 0)
            {
                return missing.ToDictionary(p => Join(field, p.Name), _ => Required, StringComparer.Ordinal);
            }
        }

        return One(field, $"Expected {(at.Type is { } expected ? Kind(expected) : "another value")}.");
    }

    /// <summary>The type at a System.Text.Json path (<c>$.segments[3].media</c>) of <paramref name="root"/>, or that its last member is unknown.</summary>
    static (Type? Type, bool Unknown) Resolve(JsonSerializerOptions options, Type root, string? path)
    {
        Type? current = root;
        foreach (var step in Steps(path))
        {
            if (current is null)
            {
                return (null, false);
            }

            var info = options.GetTypeInfo(current);
            if (step is null)
            {
                current = info.ElementType;
                continue;
            }

            if (info.Kind != JsonTypeInfoKind.Object || info.Properties.FirstOrDefault(p => p.Name == step) is not { } property)
            {
                return (null, info.Kind == JsonTypeInfoKind.Object);
            }

            current = property.PropertyType;
        }

        return (current, false);
    }

    /// <summary>The steps of a path: member names, and null for an array index.</summary>
    static List<string?> Steps(string? path)
    {
        var steps = new List<string?>();
        var rest = path ?? "$";
        for (var at = 1; at < rest.Length;)
        {
            if (rest.AsSpan(at).StartsWith("['"))
            {
                var end = rest.IndexOf("']", at, StringComparison.Ordinal);
                steps.Add(rest[(at + 2)..end]);
                at = end + 2;
            }
            else if (rest[at] == '[')
            {
                steps.Add(null);
                at = rest.IndexOf(']', at) + 1;
            }
            else
            {
                var end = rest.IndexOfAny(Separators, at + 1) is var next and >= 0 ? next : rest.Length;
                steps.Add(rest[(at + 1)..end]);
                at = end;
            }
        }

        return steps;
    }

    static readonly char[] Separators = ['.', '['];

    static string FieldOf(string? path) => path is null or "$" ? Body : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path[1..];

    static string Join(string parent, string member) => parent == Body ? member : $"{parent}.{member}";

    static Dictionary<string, string[]> One(string field, string message) => new(StringComparer.Ordinal) { [field] = [message] };

    /// <summary>What a value of <paramref name="type"/> looks like in JSON or in a query string.</summary>
    static string Kind(Type type)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Kind(underlying);
        }

        return type switch
        {
            _ when type == typeof(string) => "a string",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(Guid) => "a GUID",
            _ when type == typeof(DateTimeOffset) || type == typeof(DateTime) => "a date and time (ISO 8601, e.g. 2026-01-31T12:00:00Z)",
            _ when type == typeof(int) => "a whole number (32-bit)",
            _ when type == typeof(long) => "a whole number (64-bit)",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type)),
            _ when type != typeof(string) && type.IsAssignableTo(typeof(System.Collections.IEnumerable)) => "an array",
            _ => "an object",
        };
    }
}

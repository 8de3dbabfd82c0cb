using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudStore.ControlPlane.Platform;

/// <summary>The RFC 7807 problem responses the endpoints return for expected failures.</summary>
public static class Problems
{
    public static ProblemHttpResult BadRequest(string title, string? detail = null) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    /// <summary>Credentials not accepted. Deliberately says nothing about which part was wrong.</summary>
    public static ProblemHttpResult SignInFailed() =>
        TypedResults.Problem(title: "Sign-in failed", detail: "The credentials were not accepted.", statusCode: StatusCodes.Status401Unauthorized);

    public static ProblemHttpResult Forbidden(string title, string? detail = null) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status403Forbidden);

    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(title: $"No such {what}", statusCode: StatusCodes.Status404NotFound);

    public static ProblemHttpResult Conflict(string title, string? detail = null) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status409Conflict);
}

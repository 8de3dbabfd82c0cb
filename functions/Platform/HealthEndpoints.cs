namespace CloudStore.Functions.Platform;

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        // The Azure Functions host polls the custom handler's root until it answers.
        app.MapGet("/", () => TypedResults.Ok(new { service = "cloudstore-functions" })).ExcludeFromDescription();
        app.MapGet("/api/health", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health");
        return app;
    }
}

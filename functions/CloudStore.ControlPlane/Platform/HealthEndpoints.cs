namespace CloudStore.ControlPlane.Platform;

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/health", () => TypedResults.Ok(new { status = "ok" })).WithName("Health").WithTags("Health");
        return app;
    }
}

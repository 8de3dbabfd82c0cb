namespace CloudStore.Contracts;

/// <summary>The regions a customer may choose for their recordings.</summary>
public static class Regions
{
    public const string AustraliaSydney = "au-sydney";
    public const string CanadaToronto = "ca-toronto";
    public const string EuFrankfurt = "eu-frankfurt";
    public const string UkLondon = "uk-london";
    public const string UsVirginia = "us-virginia";

    public static readonly IReadOnlyList<string> All = [AustraliaSydney, CanadaToronto, EuFrankfurt, UkLondon, UsVirginia];

    /// <summary>The name people know a region by, e.g. "Frankfurt (eu-frankfurt)".</summary>
    public static string Display(string region) => region switch
    {
        AustraliaSydney => "Sydney",
        CanadaToronto => "Toronto",
        EuFrankfurt => "Frankfurt",
        UkLondon => "London",
        UsVirginia => "N. Virginia",
        _ => region,
    } + $" ({region})";
}

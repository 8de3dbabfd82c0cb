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
}

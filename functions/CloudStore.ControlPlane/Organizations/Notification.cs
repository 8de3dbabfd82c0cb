namespace CloudStore.ControlPlane.Organizations;

/// <summary>
/// Something the organisation's administrators should be told ("subscription ends in 7 days"), shown by
/// the web app. <see cref="Key"/> makes each one unique, so scheduled work that runs twice records it once.
/// </summary>
public sealed class Notification
{
    public Guid Id { get; set; }

    public Guid OrganizationId { get; set; }

    /// <summary>One of <see cref="NotificationKinds"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>What makes this notification distinct within its kind, e.g. the subscription end it is about.</summary>
    public required string Key { get; set; }

    public required string Message { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public static class NotificationKinds
{
    public const string SubscriptionEnding = "subscription-ending";
    public const string SubscriptionEnded = "subscription-ended";

    /// <summary>Licences never allocated lapse at the end of the allocation window within a week.</summary>
    public const string LicencesLapsing = "licences-lapsing";
}

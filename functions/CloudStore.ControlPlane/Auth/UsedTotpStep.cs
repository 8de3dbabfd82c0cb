namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// The RFC 6238 time step of the last authenticator code accepted for a user: a code of that step or an earlier one is
/// refused. A row of its own, not a column of the Identity user, because Identity rewrites the whole user row on every
/// update and would put back a stale step.
/// </summary>
public sealed class UsedTotpStep
{
    public Guid UserId { get; set; }

    public long LastStep { get; set; }
}

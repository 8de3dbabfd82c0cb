namespace CloudStore.Player.Session;

/// <summary>The player's session events. None carries a session id or a token.</summary>
static partial class SessionLog
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "A session ended: the API refused its refresh token ({Status})")]
    public static partial void EndedByApi(ILogger logger, int status);
}

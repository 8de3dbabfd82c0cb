using Microsoft.Extensions.Logging;

namespace CloudStore.LocalStack;

/// <summary>
/// What the demo logs (event ids 2000–2099), to stderr; its banner and counters stay plain stdout
/// output. The demo's password and authenticator secret are printed in the banner, never logged.
/// </summary>
static partial class DemoLog
{
    /// <summary>Single-line console logging to stderr, for the demo and its simulated cameras.</summary>
    public static ILoggerFactory CreateFactory() => LoggerFactory.Create(logging => logging
        .AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        })
        .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));

    /// <param name="reason">The start-up failure, with the tail of the failing host's log (hosts log no secrets).</param>
    [LoggerMessage(EventId = 2001, Level = LogLevel.Critical,
        Message = "The demo could not start: {Reason}\n(State from an older version can be removed with: rm -rf {StateFolder})")]
    public static partial void CouldNotStart(ILogger logger, string reason, string stateFolder);

    /// <param name="reason">The exception's message: from ffmpeg, the device client or storage, none of which puts a signature in it.</param>
    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "A simulated camera stopped ({ExceptionType}): {Reason}")]
    public static partial void CameraStopped(ILogger logger, string exceptionType, string reason);
}

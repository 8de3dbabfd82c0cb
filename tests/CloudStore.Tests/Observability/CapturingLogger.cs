using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CloudStore.Tests.Observability;

/// <summary>One log entry as a sink sees it: the formatted message, the structured values, and any exception.</summary>
public sealed record LogEntry(LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, object?> Values, Exception? Exception)
{
    /// <summary>Everything a sink could write out: message, values and exception text.</summary>
    public string AllText => string.Join(' ', [Message, .. Values.Values.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)), Exception?.ToString()]);
}

/// <summary>Keeps every entry logged to it, from any thread.</summary>
public sealed class CapturingLogger : ILogger
{
    readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)
            : new Dictionary<string, object?>(StringComparer.Ordinal);
        _entries.Enqueue(new LogEntry(logLevel, eventId, formatter(state, exception), values, exception));
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Samsa.Metadata.Quorum;

/// <summary>
/// The logger factory handed to DotNext's Raft: an unreachable peer made it log a warning with a full socket stack trace
/// every retry (several a second per peer), which buried everything else in `samsa server` output. Here an exception is
/// reduced to its type and message on the same line, and a line identical to one logged less than
/// <see cref="RepeatWindow"/> ago is dropped (the first of a run and the next after the window still appear, so an
/// operator sees that the peer is still down). Other categories are passed through unchanged.
/// </summary>
internal sealed class ConciseLoggerFactory(ILoggerFactory inner, TimeProvider time) : ILoggerFactory
{
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromSeconds(10);

    public ILogger CreateLogger(string categoryName) => new ConciseLogger(inner.CreateLogger(categoryName), time);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The inner factory belongs to the host.
    }

    private sealed class ConciseLogger(ILogger inner, TimeProvider time) : ILogger
    {
        private const int MaxRemembered = 1024;
        private readonly ConcurrentDictionary<string, long> _lastLogged = new(StringComparer.Ordinal);

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel)) return;
            string message = formatter(state, exception);
            if (exception is not null) message += $" ({exception.GetType().Name}: {exception.Message})";
            long now = time.GetTimestamp();
            if (_lastLogged.TryGetValue(message, out long last) && time.GetElapsedTime(last, now) < RepeatWindow) return;
            if (_lastLogged.Count > MaxRemembered) _lastLogged.Clear();
            _lastLogged[message] = now;
            inner.Log(logLevel, eventId, message, null, static (m, _) => m);
        }
    }
}

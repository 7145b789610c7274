using System.Collections;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// A real in-process Samsa node on an ephemeral loopback port with its own temporary data directory.
/// Restart keeps the data directory; Dispose deletes it.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    private readonly Dictionary<string, string> _overrides;
    private int[]? _ports;

    private TestBroker(string dataDir, Dictionary<string, string> overrides)
    {
        DataDir = dataDir;
        _overrides = overrides;
    }

    public string DataDir { get; }
    public BrokerHost Host { get; private set; } = null!;
    public string BootstrapServers => Host.BootstrapServers;
    public TestLoggerProvider Logs { get; } = new();

    public static async Task<TestBroker> StartAsync(IDictionary<string, string>? overrides = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-test-" + Guid.NewGuid().ToString("N")[..12]);
        var all = new Dictionary<string, string>
        {
            ["listeners"] = "PLAINTEXT://127.0.0.1:0",
            ["log.dirs"] = dir,
            ["http.listener"] = "http://127.0.0.1:0",
            ["num.partitions"] = "1",
        };
        if (overrides is not null)
            foreach (var (k, v) in overrides) all[k] = v;
        var broker = new TestBroker(dir, all);
        await broker.StartHostAsync();
        return broker;
    }

    private async Task StartHostAsync()
    {
        var overrides = new Dictionary<string, string>(_overrides);
        // A restart binds the ports bound before, keeping each listener's name (several listeners: in order).
        if (_ports is { } ports)
            overrides["listeners"] = string.Join(",", overrides["listeners"].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select((listener, i) => i < ports.Length ? listener[..(listener.LastIndexOf(':') + 1)] + ports[i] : listener));
        var config = BrokerConfig.Load(null, overrides, new Hashtable());
        var loggerFactory = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Information));
        Host = await BrokerHost.StartAsync(config, loggerFactory);
        _ports = [.. Host.BoundEndpoints.Select(e => e.Port)];
    }

    /// <summary>Graceful restart on the same port and data directory, optionally with changed broker configs from then on.</summary>
    public async Task RestartAsync(IDictionary<string, string>? overrides = null)
    {
        await Host.DisposeAsync();
        if (overrides is not null)
            foreach (var (k, v) in overrides) _overrides[k] = v;
        await StartHostAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Captures log lines so tests can assert on what an operator would see.</summary>
public sealed class TestLoggerProvider : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(TestLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)}");
    }
}

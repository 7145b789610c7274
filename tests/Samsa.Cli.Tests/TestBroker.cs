using System.Collections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker;
using Samsa.Broker.Configuration;

namespace Samsa.Cli.Tests;

/// <summary>A real in-process Samsa node on an ephemeral loopback port with its own temporary data directory (deleted on dispose).</summary>
public sealed class TestBroker : IAsyncDisposable
{
    private TestBroker(string dataDir, BrokerHost host)
    {
        DataDir = dataDir;
        Host = host;
    }

    public string DataDir { get; }
    public BrokerHost Host { get; }
    public string BootstrapServers => Host.BootstrapServers;

    public static async Task<TestBroker> StartAsync(IDictionary<string, string>? extra = null)
    {
        string dir = Path.Combine(Path.GetTempPath(), "samsa-cli-test-" + Guid.NewGuid().ToString("N")[..12]);
        var overrides = new Dictionary<string, string>
        {
            ["listeners"] = "PLAINTEXT://127.0.0.1:0",
            ["log.dirs"] = dir,
            ["http.listener"] = "http://127.0.0.1:0",
            ["num.partitions"] = "1",
        };
        if (extra is not null)
            foreach (var (k, v) in extra) overrides[k] = v;
        var config = BrokerConfig.Load(null, overrides, new Hashtable());
        var host = await BrokerHost.StartAsync(config, NullLoggerFactory.Instance);
        return new TestBroker(dir, host);
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

using System.Diagnostics;
using System.Net.Sockets;

namespace Samsa.Broker.Tests.Integration;

/// <summary>connections.max.idle.ms is enforced: a silent connection is closed, an active one is not.</summary>
public sealed class IdleConnectionTests
{
    [Fact]
    public async Task Silent_connection_is_closed_after_connections_max_idle_ms()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["connections.max.idle.ms"] = "500" });
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(broker.Host.BoundEndpoints[0]);
        var stream = tcp.GetStream();
        var watch = Stopwatch.StartNew();
        var buffer = new byte[16];
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int read;
        try
        {
            read = await stream.ReadAsync(buffer, guard.Token); // the broker closes: EOF
        }
        catch (IOException)
        {
            read = 0; // reset also counts as closed
        }
        Assert.Equal(0, read);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(400), $"closed after {watch.Elapsed}");
        Assert.Contains(broker.Logs.Lines, l => l.Contains("connections.max.idle.ms", StringComparison.Ordinal));
    }
}

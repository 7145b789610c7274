using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Samsa.Cli.Tests;

/// <summary>`samsa cluster describe` and client profiles (--profile, $SAMSA_PROFILE, ~/.config/samsa/profile.properties) against a real node.</summary>
public sealed class ClusterAndProfileTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("samsa-profile-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<SamsaCli.Result> Run(string[] args, IDictionary<string, string?>? environment = null)
    {
        var result = await SamsaCli.RunAsync(args, environment: environment);
        output.WriteLine($"$ samsa {string.Join(' ', args)}\n{result}");
        return result;
    }

    private string WriteProfile(string name, params string[] lines)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, ["# samsa client profile", .. lines]);
        return path;
    }

    private static string UnusedAddress()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port}";
    }

    [Fact]
    public async Task Cluster_describe_shows_id_controller_and_brokers_as_table_and_json()
    {
        await using var broker = await TestBroker.StartAsync();
        var node = broker.Host.Node;
        int port = broker.Host.BoundEndpoints[0].Port;

        var table = await Run(["cluster", "describe", "-b", broker.BootstrapServers]);
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains($"Cluster id: {node.ClusterId}", table.Stdout);
        Assert.Contains($"Controller: {node.NodeId}", table.Stdout);
        var header = table.StdoutLines.Single(l => l.StartsWith("ID", StringComparison.Ordinal));
        Assert.Equal(["ID", "HOST", "PORT", "RACK", "CONTROLLER"], header.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var row = table.StdoutLines.SkipWhile(l => l != header).Skip(1).Single().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([node.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-", "*"], row);

        var json = await Run(["cluster", "describe", "-b", broker.BootstrapServers, "--output", "json"]);
        Assert.True(json.ExitCode == 0, json.ToString());
        var root = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(node.ClusterId, root.GetProperty("clusterId").GetString());
        Assert.Equal(node.NodeId, root.GetProperty("controller").GetInt32());
        var brokers = root.GetProperty("brokers").EnumerateArray().ToList();
        var only = Assert.Single(brokers);
        Assert.Equal(node.NodeId, only.GetProperty("id").GetInt32());
        Assert.Equal("127.0.0.1", only.GetProperty("host").GetString());
        Assert.Equal(port, only.GetProperty("port").GetInt32());
        Assert.True(only.GetProperty("controller").GetBoolean());

        var unreachable = UnusedAddress();
        var down = await Run(["cluster", "describe", "-b", unreachable]);
        Assert.Equal(1, down.ExitCode);
        Assert.Contains($"Could not reach a Samsa broker at {unreachable}", down.Stderr);
    }

    [Fact]
    public async Task Profile_file_supplies_bootstrap_servers_and_client_settings()
    {
        await using var broker = await TestBroker.StartAsync();
        var profile = WriteProfile("work.properties", $"bootstrap.servers={broker.BootstrapServers}", "security.protocol=plaintext", "client.dns.lookup=use_all_dns_ips");

        // --profile: no --bootstrap-server needed.
        var create = await Run(["topic", "create", "from-profile", "--profile", profile]);
        Assert.True(create.ExitCode == 0, create.ToString());
        var described = await Run(["cluster", "describe", "--profile", profile, "-o", "json"]);
        Assert.True(described.ExitCode == 0, described.ToString());
        Assert.Equal(broker.Host.Node.ClusterId, JsonDocument.Parse(described.Stdout).RootElement.GetProperty("clusterId").GetString());

        // $SAMSA_PROFILE, and the default ~/.config/samsa/profile.properties ($XDG_CONFIG_HOME respected).
        var viaEnvironment = await Run(["topic", "list", "-o", "json"], new Dictionary<string, string?> { ["SAMSA_PROFILE"] = profile });
        Assert.True(viaEnvironment.ExitCode == 0, viaEnvironment.ToString());
        Assert.Contains("from-profile", viaEnvironment.Stdout);
        var configHome = Path.Combine(_dir, "config");
        WriteProfile(Path.Combine("config", "samsa", "profile.properties"), $"bootstrap.servers={broker.BootstrapServers}");
        var viaDefault = await Run(["topic", "list"], new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = configHome });
        Assert.True(viaDefault.ExitCode == 0, viaDefault.ToString());
        Assert.Contains("from-profile", viaDefault.Stdout);

        // The command line wins over the profile; a profile pointing nowhere is named in the failure.
        var stale = WriteProfile("stale.properties", $"bootstrap.servers={UnusedAddress()}");
        var overridden = await Run(["topic", "list", "--profile", stale, "-b", broker.BootstrapServers]);
        Assert.True(overridden.ExitCode == 0, overridden.ToString());
        var failed = await Run(["topic", "list", "--profile", stale]);
        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("Could not reach a Samsa broker", failed.Stderr);
        Assert.Contains(stale, failed.Stderr);

        // A missing profile or an unknown client property is a usage error.
        var missing = await Run(["topic", "list", "--profile", Path.Combine(_dir, "nope.properties")]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope.properties", missing.Stderr);
        var bad = WriteProfile("bad.properties", $"bootstrap.servers={broker.BootstrapServers}", "no.such.property=1");
        var invalid = await Run(["topic", "list", "--profile", bad]);
        Assert.Equal(2, invalid.ExitCode);
        Assert.Contains("no.such.property", invalid.Stderr);
    }
}

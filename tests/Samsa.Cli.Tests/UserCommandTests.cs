using System.Text.Json;

namespace Samsa.Cli.Tests;

/// <summary>
/// `samsa user add|list|remove` against a node whose only listener is SASL_PLAINTEXT: the CLI authenticates with the
/// usual client settings (-X or a --profile), SCRAM users it creates can log in, and a refused login is reported as such.
/// </summary>
public sealed class UserCommandTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("samsa-user-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<TestBroker> StartSaslBrokerAsync() => TestBroker.StartAsync(new Dictionary<string, string>
    {
        ["listeners"] = "SASL_PLAINTEXT://127.0.0.1:0",
        ["listener.name.sasl_plaintext.plain.sasl.jaas.config"] =
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\";",
    });

    private static string[] As(TestBroker broker, string mechanism, string user, string password) =>
    [
        "-b", broker.BootstrapServers, "-X", "security.protocol=SASL_PLAINTEXT", "-X", $"sasl.mechanism={mechanism}",
        "-X", $"sasl.username={user}", "-X", $"sasl.password={password}", "--timeout", "5",
    ];

    private async Task<SamsaCli.Result> Run(string[] args, string? stdin = null)
    {
        var result = await SamsaCli.RunAsync(args, stdin);
        output.WriteLine($"$ samsa {string.Join(' ', args)}\n{result}");
        return result;
    }

    [Fact]
    public async Task Add_list_use_and_remove_a_scram_user()
    {
        await using var broker = await StartSaslBrokerAsync();
        var admin = As(broker, "PLAIN", "admin", "admin-secret");

        // A fresh cluster has no SCRAM users: an empty table, not an error.
        var none = await Run(["user", "list", .. admin]);
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Equal(["USER", "MECHANISM", "ITERATIONS"], none.StdoutLines.Single().Split(' ', StringSplitOptions.RemoveEmptyEntries));

        // The password comes from standard input, not the command line.
        var add = await Run(["user", "add", "alice", "--mechanism", "SCRAM-SHA-256", "--mechanism", "SCRAM-SHA-512", .. admin], stdin: "alice-pw\n");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("SCRAM-SHA-512 credential set (8192 iterations)", add.Stderr);

        var list = await Run(["user", "list", "-o", "json", .. admin]);
        Assert.True(list.ExitCode == 0, list.ToString());
        var rows = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray()
            .Select(r => $"{r.GetProperty("user").GetString()}:{r.GetProperty("mechanism").GetString()}:{r.GetProperty("iterations").GetInt32()}").ToList();
        Assert.Equal(["alice:SCRAM-SHA-256:8192", "alice:SCRAM-SHA-512:8192"], rows);
        Assert.DoesNotContain("alice-pw", list.Stdout);

        // alice logs in with SCRAM (a profile file this time) and administers a topic.
        var profile = Path.Combine(_dir, "alice.properties");
        File.WriteAllLines(profile, [$"bootstrap.servers={broker.BootstrapServers}", "security.protocol=SASL_PLAINTEXT",
            "sasl.mechanism=SCRAM-SHA-512", "sasl.username=alice", "sasl.password=alice-pw"]);
        var create = await Run(["topic", "create", "alice-topic", "--profile", profile]);
        Assert.True(create.ExitCode == 0, create.ToString());

        var remove = await Run(["user", "remove", "alice", .. admin]);
        Assert.True(remove.ExitCode == 0, remove.ToString());
        var empty = await Run(["user", "list", .. admin]);
        Assert.True(empty.ExitCode == 0, empty.ToString());
        Assert.DoesNotContain("alice", empty.Stdout);

        // Listing as a SCRAM user works too (the CLI's own wire client speaks SCRAM); a wrong password is refused.
        var bad = await Run(["user", "list", .. As(broker, "PLAIN", "admin", "wrong")]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("refused the connection", bad.Stderr);

        // Removed: alice's login is now refused, and the CLI says so rather than "unreachable".
        var refused = await Run(["topic", "list", "--profile", profile, "--timeout", "5"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refused the connection", refused.Stderr);
        Assert.Contains("Authentication failed", refused.Stderr);
    }

    [Fact]
    public async Task Removing_an_unknown_user_and_bad_iterations_are_errors()
    {
        await using var broker = await StartSaslBrokerAsync();
        var admin = As(broker, "PLAIN", "admin", "admin-secret");

        var unknown = await Run(["user", "remove", "nobody", .. admin]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("User 'nobody' has no SCRAM credentials", unknown.Stderr);

        var few = await Run(["user", "add", "bob", "--password", "x", "--iterations", "100", .. admin]);
        Assert.Equal(2, few.ExitCode);
    }
}

using System.Text.Json;

namespace Samsa.Cli.Tests;

/// <summary>`samsa acl add|list|remove` (the real executable) against a node with the ACL authorizer.</summary>
public sealed class AclCommandTests(ITestOutputHelper output)
{
    private async Task<SamsaCli.Result> Run(TestBroker broker, params string[] args)
    {
        var result = await SamsaCli.RunAsync([.. args, "--bootstrap-server", broker.BootstrapServers]);
        output.WriteLine($"$ samsa {string.Join(' ', args)}\n{result.Stdout}[stderr] {result.Stderr}[exit {result.ExitCode}]");
        return result;
    }

    private async Task<List<string>> List(TestBroker broker, params string[] args)
    {
        var result = await Run(broker, ["acl", "list", .. args, "-o", "json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.EnumerateArray()
            .Select(e => $"{e.GetProperty("resourceType").GetString()}:{e.GetProperty("patternType").GetString()}:{e.GetProperty("name").GetString()} " +
                         $"{e.GetProperty("permission").GetString()} {e.GetProperty("principal").GetString()} {e.GetProperty("operation").GetString()}")
            .ToList();
    }

    [Fact]
    public async Task Add_list_and_remove_acls()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string>
        {
            ["authorizer.class.name"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            ["super.users"] = "User:ANONYMOUS",
        });
        Assert.Equal(0, (await Run(broker, "acl", "add", "--allow-principal", "User:alice", "--operation", "Read", "--operation", "Describe", "--topic", "orders")).ExitCode);
        Assert.Equal(0, (await Run(broker, "acl", "add", "--deny-principal", "User:bob", "--operation", "Write", "--topic", "sales.", "--resource-pattern-type", "prefixed")).ExitCode);
        Assert.Equal(0, (await Run(broker, "acl", "add", "--allow-principal", "User:alice", "--operation", "Read", "--group", "billing")).ExitCode);
        var invalid = await Run(broker, "acl", "add", "--allow-principal", "alice", "--operation", "Read", "--topic", "x");
        Assert.Equal(1, invalid.ExitCode);
        Assert.Contains("INVALID_REQUEST", invalid.Stderr, StringComparison.Ordinal);

        Assert.Equal(
            ["Topic:Literal:orders Allow User:alice Read", "Topic:Literal:orders Allow User:alice Describe", "Topic:Prefixed:sales. Deny User:bob Write",
             "Group:Literal:billing Allow User:alice Read"],
            await List(broker));
        // --resource-pattern-type match lists what applies to a topic, including prefixes.
        Assert.Equal(["Topic:Prefixed:sales. Deny User:bob Write"], await List(broker, "--topic", "sales.eu", "--resource-pattern-type", "match"));
        Assert.Empty(await List(broker, "--topic", "sales.eu"));

        var removed = await Run(broker, "acl", "remove", "--principal", "User:alice", "-o", "json");
        Assert.Equal(0, removed.ExitCode);
        Assert.Equal(3, JsonDocument.Parse(removed.Stdout).RootElement.GetArrayLength());
        Assert.Equal(["Topic:Prefixed:sales. Deny User:bob Write"], await List(broker));
        Assert.Equal(2, (await Run(broker, "acl", "remove")).ExitCode); // refuses to remove everything without a filter
    }

    [Fact]
    public async Task Without_an_authorizer_add_fails_with_security_disabled()
    {
        await using var broker = await TestBroker.StartAsync();
        var result = await Run(broker, "acl", "add", "--allow-principal", "User:alice", "--operation", "Read", "--topic", "t");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("SECURITY_DISABLED", result.Stderr, StringComparison.Ordinal);
    }
}

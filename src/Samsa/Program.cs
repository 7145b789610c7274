using System.CommandLine;
using Samsa.Commands;

// Composition root of the `samsa` executable: one verb per file under Commands/.
var root = new RootCommand("Samsa: a Kafka-compatible event streaming platform.");
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(ClusterCommand.Create());
root.Subcommands.Add(TopicCommand.Create());
root.Subcommands.Add(ProduceCommand.Create());
root.Subcommands.Add(ConsumeCommand.Create());
root.Subcommands.Add(GroupCommand.Create());
root.Subcommands.Add(AclCommand.Create());
root.Subcommands.Add(PerfCommand.Create());
root.Subcommands.Add(UserCommand.Create());

// Signals are handled by the verbs (graceful broker shutdown can take longer than System.CommandLine's 2 s default).
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
var parseResult = root.Parse(args);

// Usage errors: the errors and a pointer to --help on stderr, exit 2 (System.CommandLine's default prints the whole
// help and exits 1, which the client verbs reserve for failed operations).
if (parseResult.Errors.Count > 0 && parseResult.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    foreach (var error in parseResult.Errors)
    {
        await Console.Error.WriteLineAsync($"samsa: {error.Message}").ConfigureAwait(false);
    }

    var path = parseResult.CommandResult.Command is RootCommand ? "samsa" : $"samsa {string.Join(' ', CommandPath(parseResult.CommandResult))}";
    await Console.Error.WriteLineAsync($"Run '{path} --help' for usage.").ConfigureAwait(false);
    return ExitCodes.Usage;
}

return await parseResult.InvokeAsync(invocation).ConfigureAwait(false);

static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult? result)
{
    var names = new Stack<string>();
    for (; result is not null && result.Command is not RootCommand; result = result.Parent as System.CommandLine.Parsing.CommandResult)
    {
        names.Push(result.Command.Name);
    }

    return names;
}

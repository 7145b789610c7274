using System.CommandLine;
using Samsa.Commands;

// Composition root of the `samsa` executable: one verb per file under Commands/.
var root = new RootCommand("Samsa: a Kafka-compatible event streaming platform.");
root.Subcommands.Add(ServerCommand.Create());
root.Subcommands.Add(TopicCommand.Create());
root.Subcommands.Add(ProduceCommand.Create());
root.Subcommands.Add(ConsumeCommand.Create());

// Signals are handled by the verbs (graceful broker shutdown can take longer than System.CommandLine's 2 s default).
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
var parseResult = root.Parse(args);

// Usage errors exit with 2 (System.CommandLine's default is 1, which the client verbs reserve for failed operations).
if (parseResult.Errors.Count > 0 && parseResult.Action is System.CommandLine.Invocation.ParseErrorAction)
{
    await parseResult.InvokeAsync(invocation).ConfigureAwait(false);
    return ExitCodes.Usage;
}

return await parseResult.InvokeAsync(invocation).ConfigureAwait(false);

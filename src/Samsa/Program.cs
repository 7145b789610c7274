using System.CommandLine;
using Samsa.Commands;

// Composition root of the `samsa` executable: one verb per file under Commands/.
var root = new RootCommand("Samsa: a Kafka-compatible event streaming platform.");
root.Subcommands.Add(ServerCommand.Create());

// Signals are handled by the verbs (graceful broker shutdown can take longer than System.CommandLine's 2 s default).
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null };
return await root.Parse(args).InvokeAsync(invocation).ConfigureAwait(false);

using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa group reset-offsets</c>: moves a group's committed offsets, as kafka-consumer-groups.sh --reset-offsets.
/// A dry run (the default) prints the plan and changes nothing; --execute commits it with OffsetCommit (via
/// AlterConsumerGroupOffsets, a "simple" commit with generation -1, which Kafka accepts only for a group without
/// members). So, as in Kafka, offsets are only reset while the group is inactive.
/// </summary>
internal static partial class GroupCommand
{
    private sealed record ResetRequest(string Group, List<(string Topic, int[]? Partitions)> Topics, bool AllTopics, ResetStrategy Strategy,
        long Value, bool Execute, OutputFormat Format);

    private sealed record ResetRow(TopicPartition Partition, long? Current, long New);

    private static Command CreateResetOffsets()
    {
        var group = GroupArgument();
        var topics = new Option<string[]>("--topic", "-t")
        {
            Description = "Topic to reset (repeatable); topic:0,2 resets only those partitions.",
            HelpName = "topic[:p1,p2]",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var allTopics = new Option<bool>("--all-topics") { Description = "Reset every partition the group has a committed offset for." };
        var toEarliest = new Option<bool>("--to-earliest") { Description = "Reset to the earliest offset still in the log." };
        var toLatest = new Option<bool>("--to-latest") { Description = "Reset to the end of the log (skip everything not yet read)." };
        var toDatetime = new Option<string?>("--to-datetime")
        {
            Description = "Reset to the first record at or after this time: ISO 8601 (UTC unless an offset is given) or Unix ms.",
            HelpName = "time",
        };
        var shiftBy = new Option<long?>("--shift-by") { Description = "Move the committed offset by N (negative re-reads).", HelpName = "N" };
        var toOffset = new Option<long?>("--to-offset") { Description = "Reset to this offset.", HelpName = "N" };
        var execute = new Option<bool>("--execute") { Description = "Commit the new offsets. Without it, only print the plan (dry run)." };
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("reset-offsets",
            "Plan (dry run, the default) or --execute a reset of a group's committed offsets; the group must have no active members. " +
            "New offsets are clamped to [earliest, latest].")
        {
            group, topics, allTopics, toEarliest, toLatest, toDatetime, shiftBy, toOffset, execute, format,
        };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var strategies = new List<(ResetStrategy Strategy, long Value)>();
            if (parseResult.GetValue(toEarliest)) strategies.Add((ResetStrategy.Earliest, 0));
            if (parseResult.GetValue(toLatest)) strategies.Add((ResetStrategy.Latest, 0));
            if (parseResult.GetValue(toDatetime) is { } time) strategies.Add((ResetStrategy.DateTime, ParseDateTime(time)));
            if (parseResult.GetValue(shiftBy) is { } shift) strategies.Add((ResetStrategy.ShiftBy, shift));
            if (parseResult.GetValue(toOffset) is { } offset)
            {
                if (offset < 0)
                {
                    throw CliException.Usage("--to-offset must not be negative");
                }

                strategies.Add((ResetStrategy.ToOffset, offset));
            }

            if (strategies.Count != 1)
            {
                throw CliException.Usage("choose exactly one of --to-earliest, --to-latest, --to-datetime, --shift-by and --to-offset");
            }

            var topicSpecs = (parseResult.GetValue(topics) ?? []).Select(ParseTopicSpec).ToList();
            bool all = parseResult.GetValue(allTopics);
            if (topicSpecs.Count == 0 == !all)
            {
                throw CliException.Usage("give the partitions to reset with --topic topic[:p1,p2] (repeatable) or --all-topics");
            }

            var request = new ResetRequest(parseResult.GetValue(group)!, topicSpecs, all, strategies[0].Strategy, strategies[0].Value,
                parseResult.GetValue(execute), Output.GetFormat(parseResult, format));
            return await ResetAsync(settings, request, ct).ConfigureAwait(false);
        }));
        return command;
    }

    private static async Task<int> ResetAsync(ClientSettings settings, ResetRequest request, CancellationToken ct)
    {
        using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
        var snapshot = await GroupSnapshot.LoadAsync(session, request.Group, ct).ConfigureAwait(false);
        if (snapshot.HasActiveMembers)
        {
            var message = $"Consumer group '{request.Group}' has {snapshot.Members.Count} active member{(snapshot.Members.Count == 1 ? "" : "s")} " +
                          $"(state {snapshot.State}): offsets can only be reset while the group is inactive; stop its consumers first";
            if (request.Execute)
            {
                throw new CliException(message);
            }

            Output.Info($"samsa: warning: {message}.");
        }

        var partitions = await ResolvePartitionsAsync(session, request, snapshot, ct).ConfigureAwait(false);
        var earliest = await ListOffsetsAsync(session, partitions, OffsetSpec.Earliest(), ct).ConfigureAwait(false);
        var latest = await ListOffsetsAsync(session, partitions, OffsetSpec.Latest(), ct).ConfigureAwait(false);
        var byTime = request.Strategy == ResetStrategy.DateTime
            ? await ListOffsetsAsync(session, partitions, OffsetSpec.ForTimestamp(request.Value), ct).ConfigureAwait(false)
            : [];

        var plan = new List<ResetRow>();
        foreach (var tp in partitions)
        {
            if (!earliest.TryGetValue(tp, out var low) || !latest.TryGetValue(tp, out var high))
            {
                throw new CliException($"Could not list the offsets of {tp.Topic}:{tp.Partition.Value} (is its leader available?)");
            }

            long? current = snapshot.Committed.TryGetValue(tp, out var c) ? c : null;
            long target = OffsetResetPlanner.Target(request.Strategy, request.Value, current, low, high, byTime.GetValueOrDefault(tp, -1), tp);
            plan.Add(new ResetRow(tp, current, target));
        }

        if (request.Execute && plan.Count > 0)
        {
            try
            {
                await session.Watch.WaitAsync(session.Admin.AlterConsumerGroupOffsetsAsync(
                    [new ConsumerGroupTopicPartitionOffsets(request.Group, plan.Select(r => new TopicPartitionOffset(r.Partition, r.New)).ToList())],
                    new AlterConsumerGroupOffsetsOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            }
            catch (AlterConsumerGroupOffsetsException e) when (e.Results.Count > 0)
            {
                var report = e.Results[0];
                var error = report.Error.IsError ? report.Error : report.Partitions.FirstOrDefault(p => p.Error.IsError)?.Error ?? report.Error;
                throw error.Code is ErrorCode.UnknownMemberId or ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration
                    ? new CliException($"Consumer group '{request.Group}' became active while resetting; stop its consumers first ({Output.KafkaErrorName(error.Code)})")
                    : new CliException($"Could not commit offsets for consumer group '{request.Group}': {Output.Describe(error)}");
            }
        }

        WritePlan(request, plan);
        if (request.Format == OutputFormat.Table)
        {
            Output.Info(request.Execute
                ? $"Committed new offsets for consumer group '{request.Group}' ({plan.Count} partition{(plan.Count == 1 ? "" : "s")})."
                : "Dry run: nothing was committed. Run again with --execute to commit these offsets.");
        }

        return ExitCodes.Ok;
    }

    private static async Task<List<TopicPartition>> ResolvePartitionsAsync(AdminSession session, ResetRequest request, GroupSnapshot snapshot,
        CancellationToken ct)
    {
        var result = new List<TopicPartition>();
        if (request.AllTopics)
        {
            result.AddRange(snapshot.Committed.Keys);
        }

        foreach (var (topic, selected) in request.Topics)
        {
            var metadata = await session.GetTopicAsync(topic, ct).ConfigureAwait(false);
            var existing = metadata.Partitions.Select(p => p.PartitionId).Order().ToList();
            if (selected?.FirstOrDefault(p => !existing.Contains(p), -1) is { } missing and >= 0)
            {
                throw new CliException($"Topic '{topic}' has {existing.Count} partition(s); partition {missing} does not exist");
            }

            result.AddRange((selected ?? [.. existing]).Select(p => new TopicPartition(topic, p)));
        }

        return result.Distinct().OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value).ToList();
    }

    private static void WritePlan(ResetRequest request, List<ResetRow> plan)
    {
        if (request.Format == OutputFormat.Json)
        {
            var partitions = new JsonArray();
            foreach (var r in plan)
            {
                partitions.Add(new JsonObject
                {
                    ["topic"] = r.Partition.Topic,
                    ["partition"] = r.Partition.Partition.Value,
                    ["currentOffset"] = r.Current,
                    ["newOffset"] = r.New,
                });
            }

            Output.WriteJson(new JsonObject { ["group"] = request.Group, ["executed"] = request.Execute, ["partitions"] = partitions });
            return;
        }

        var table = new TextTable("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET");
        foreach (var r in plan)
        {
            table.Add(request.Group, r.Partition.Topic, r.Partition.Partition.Value, Dash(r.Current), r.New);
        }

        table.Write(Console.Out);
    }

    /// <summary>topic or topic:0,2 (Kafka topic names cannot contain ':').</summary>
    private static (string Topic, int[]? Partitions) ParseTopicSpec(string spec)
    {
        var colon = spec.IndexOf(':', StringComparison.Ordinal);
        var topic = (colon < 0 ? spec : spec[..colon]).Trim();
        if (topic.Length == 0)
        {
            throw CliException.Usage($"--topic: '{spec}' names no topic");
        }

        if (colon < 0)
        {
            return (topic, null);
        }

        var partitions = new List<int>();
        foreach (var part in spec[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var p))
            {
                throw CliException.Usage($"--topic: '{spec}': partitions are a comma-separated list of numbers, e.g. {topic}:0,2");
            }

            partitions.Add(p);
        }

        return (topic, partitions.Distinct().ToArray());
    }

    private static long ParseDateTime(string text)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
        {
            return ms;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time.ToUnixTimeMilliseconds();
        }

        throw CliException.Usage($"--to-datetime: '{text}' is neither an ISO 8601 time (2025-01-31T12:00:00Z) nor Unix milliseconds");
    }
}

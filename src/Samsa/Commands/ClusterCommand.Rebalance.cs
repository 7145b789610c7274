using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa cluster rebalance</c>: spreads replicas and preferred leaders evenly over the live brokers (e.g. after
/// adding a node) with few moves (<see cref="RebalancePlanner"/>), submits the moves as online reassignments
/// (AlterPartitionReassignments, KIP-455) and with <c>--wait</c> watches ListPartitionReassignments until they finish,
/// then elects the preferred leaders (ElectLeaders). Like kafka-reassign-partitions.sh --generate/--execute/--verify in
/// one verb. <c>samsa cluster reassignments</c> lists the ongoing ones.
/// </summary>
internal static partial class ClusterCommand
{
    private static Command CreateRebalance()
    {
        var topics = new Option<string[]>("--topics")
        {
            Description = "Only move partitions of these topics (repeatable or comma-separated; default: every topic).",
            HelpName = "topic",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the planned moves without submitting them." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the reassignments complete, then elect preferred leaders." };
        var waitTimeout = new Option<int>("--wait-timeout")
        {
            Description = "Seconds --wait waits for the reassignments (default 600).", HelpName = "SECONDS", DefaultValueFactory = _ => 600,
        };
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("rebalance", "Move replicas and preferred leaders so every live broker carries an even share.")
        {
            topics, dryRun, wait, waitTimeout, format,
        };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var only = (parseResult.GetValue(topics) ?? []).SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .ToHashSet(StringComparer.Ordinal);
            bool json = Output.GetFormat(parseResult, format) == OutputFormat.Json;
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            var metadata = await session.Watch.RunAsync(() => session.Admin.GetMetadata(settings.Timeout), ct).ConfigureAwait(false);
            var cluster = await session.Watch.WaitAsync(
                session.Admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            var missing = only.Where(t => metadata.Topics.All(m => m.Topic != t)).ToList();
            if (missing.Count > 0) throw CliException.TopicDoesNotExist(missing[0]);
            var current = metadata.Topics
                .Where(t => t.Error.Code == ErrorCode.NoError && (only.Count == 0 || only.Contains(t.Topic)))
                .SelectMany(t => t.Partitions.Select(p => (Key: (t.Topic, p.PartitionId), p.Replicas)))
                .ToDictionary(x => x.Key, x => x.Replicas);
            var brokers = cluster.Nodes.ToDictionary(n => n.Id, n => string.IsNullOrEmpty(n.Rack) ? null : n.Rack);
            var plan = RebalancePlanner.Compute(current, brokers);

            await using var reassignments = ReassignmentClient.Open(settings);
            var ongoing = await reassignments.ListAsync(ct).ConfigureAwait(false);
            if (!parseResult.GetValue(dryRun) && plan.Changes.Count > 0 && ongoing.Count > 0)
                throw new CliException($"{ongoing.Sum(t => t.Partitions.Count)} reassignment(s) are still in progress; wait for them (samsa cluster reassignments) first.");

            var moves = plan.Changes.OrderBy(c => c.Key.Topic, StringComparer.Ordinal).ThenBy(c => c.Key.Partition).ToList();
            if (!json)
            {
                Console.Out.WriteLine($"Brokers: {string.Join(",", brokers.Keys.Order())}; {plan.ReplicaMoves} replica move(s), {plan.LeaderSwaps} preferred-leader change(s) over {moves.Count} partition(s).");
                if (moves.Count > 0)
                {
                    var table = new TextTable("TOPIC", "PARTITION", "CURRENT", "TARGET");
                    foreach (var (key, target) in moves) table.Add(key.Topic, key.Partition, string.Join(",", current[key]), string.Join(",", target));
                    table.Write(Console.Out);
                }
            }
            bool submitted = false, completed = false;
            var elected = new List<TopicPartition>();
            if (!parseResult.GetValue(dryRun) && moves.Count > 0)
            {
                var errors = await reassignments.AlterAsync(moves.ToDictionary(m => m.Key, m => (int[]?)m.Value), ct).ConfigureAwait(false);
                if (errors.Count > 0)
                    throw new CliException("Reassignment refused for " + string.Join("; ", errors.Select(e => $"{e.Topic}-{e.Partition}: {e.Error} {e.Message}")));
                submitted = true;
                if (!json) Console.Out.WriteLine($"Submitted {moves.Count} reassignment(s).");
                if (parseResult.GetValue(wait))
                {
                    var watch = Stopwatch.StartNew();
                    var mine = moves.Select(m => m.Key).ToHashSet();
                    while (true)
                    {
                        var left = (await reassignments.ListAsync(ct).ConfigureAwait(false))
                            .SelectMany(t => t.Partitions.Select(p => (t.Name, p.PartitionIndex))).Count(mine.Contains);
                        if (left == 0) break;
                        if (watch.Elapsed > TimeSpan.FromSeconds(parseResult.GetValue(waitTimeout)))
                            throw new CliException($"{left} reassignment(s) still in progress after {parseResult.GetValue(waitTimeout)} s (they continue on the cluster).");
                        await Task.Delay(500, ct).ConfigureAwait(false);
                    }
                    completed = true;
                    elected = await ElectPreferredAsync(session, [.. moves.Select(m => new TopicPartition(m.Key.Topic, m.Key.Partition))], ct).ConfigureAwait(false);
                    if (!json) Console.Out.WriteLine($"Reassignments complete after {watch.Elapsed.TotalSeconds:F1} s; preferred leader elected for {elected.Count} partition(s).");
                }
            }

            if (json)
            {
                var array = new JsonArray();
                foreach (var (key, target) in moves)
                    array.Add(new JsonObject
                    {
                        ["topic"] = key.Topic, ["partition"] = key.Partition,
                        ["current"] = new JsonArray([.. current[key].Select(b => (JsonNode)b)]), ["target"] = new JsonArray([.. target.Select(b => (JsonNode)b)]),
                    });
                Output.WriteJson(new JsonObject
                {
                    ["brokers"] = new JsonArray([.. brokers.Keys.Order().Select(b => (JsonNode)b)]),
                    ["replicaMoves"] = plan.ReplicaMoves, ["leaderChanges"] = plan.LeaderSwaps, ["partitions"] = array,
                    ["submitted"] = submitted, ["completed"] = completed, ["leadersElected"] = elected.Count,
                });
            }
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>Preferred-leader election for <paramref name="partitions"/>; returns those whose leader changed.</summary>
    private static async Task<List<TopicPartition>> ElectPreferredAsync(AdminSession session, List<TopicPartition> partitions, CancellationToken ct)
    {
        try
        {
            var report = await session.Watch.WaitAsync(session.Admin.ElectLeadersAsync(ElectionType.Preferred, partitions,
                new ElectLeadersOptions { RequestTimeout = session.Settings.Timeout }), ct).ConfigureAwait(false);
            return [.. report.TopicPartitions.Where(r => r.Error.Code == ErrorCode.NoError).Select(r => r.TopicPartition)];
        }
        catch (ElectLeadersException e)
        {
            // Partitions whose preferred replica already leads answer ELECTION_NOT_NEEDED; that is success here.
            return [.. e.Results.TopicPartitions.Where(r => r.Error.Code == ErrorCode.NoError).Select(r => r.TopicPartition)];
        }
    }

    private static Command CreateReassignments()
    {
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("reassignments", "List ongoing partition reassignments (replicas, adding, removing).") { format };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            await settings.EnsureReachableAsync(ct).ConfigureAwait(false);
            await using var reassignments = ReassignmentClient.Open(settings);
            var ongoing = (await reassignments.ListAsync(ct).ConfigureAwait(false))
                .SelectMany(t => t.Partitions.Select(p => (Topic: t.Name, Partition: p)))
                .OrderBy(x => x.Topic, StringComparer.Ordinal).ThenBy(x => x.Partition.PartitionIndex).ToList();
            if (Output.GetFormat(parseResult, format) == OutputFormat.Json)
            {
                var array = new JsonArray();
                foreach (var (topic, p) in ongoing)
                    array.Add(new JsonObject
                    {
                        ["topic"] = topic, ["partition"] = p.PartitionIndex,
                        ["replicas"] = new JsonArray([.. p.Replicas.Select(b => (JsonNode)b)]),
                        ["adding"] = new JsonArray([.. p.AddingReplicas.Select(b => (JsonNode)b)]),
                        ["removing"] = new JsonArray([.. p.RemovingReplicas.Select(b => (JsonNode)b)]),
                    });
                Output.WriteJson(array);
            }
            else if (ongoing.Count == 0)
            {
                Console.Out.WriteLine("No reassignment in progress.");
            }
            else
            {
                var table = new TextTable("TOPIC", "PARTITION", "REPLICAS", "ADDING", "REMOVING");
                foreach (var (topic, p) in ongoing)
                    table.Add(topic, p.PartitionIndex, string.Join(",", p.Replicas), string.Join(",", p.AddingReplicas), string.Join(",", p.RemovingReplicas));
                table.Write(Console.Out);
            }
            return ExitCodes.Ok;
        }));
        return command;
    }
}

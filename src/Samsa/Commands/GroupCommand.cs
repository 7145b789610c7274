using System.CommandLine;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa group list|describe|reset-offsets|delete</c>: consumer group administration over the Kafka admin API
/// (ListGroups, DescribeGroups, OffsetFetch, ListOffsets, OffsetCommit, DeleteGroups), like kafka-consumer-groups.sh.
/// Lag is computed here, client-side, from the group's committed offsets and the partitions' high watermarks, so it is
/// exactly what any Kafka tool would compute.
/// </summary>
internal static partial class GroupCommand
{
    public static Command Create()
    {
        var command = new Command("group", "List, describe (with lag), reset the offsets of, and delete consumer groups.");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateDescribe());
        command.Subcommands.Add(CreateResetOffsets());
        command.Subcommands.Add(CreateDelete());
        return command;
    }

    private static Argument<string> GroupArgument() => new("group") { Description = "Consumer group id." };

    private static Command CreateList()
    {
        var states = new Option<string[]>("--state")
        {
            Description = "Only groups in this state (repeatable): Stable, Empty, PreparingRebalance, CompletingRebalance, Dead.",
            HelpName = "state",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("list", "List consumer groups with their state, type and assignment protocol.") { states, format };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var matchStates = new List<ConsumerGroupState>();
            foreach (var s in parseResult.GetValue(states) ?? [])
            {
                if (!Enum.TryParse<ConsumerGroupState>(s, ignoreCase: true, out var state) || state == ConsumerGroupState.Unknown)
                {
                    throw CliException.Usage($"--state: unknown group state '{s}' (Stable, Empty, PreparingRebalance, CompletingRebalance, Dead)");
                }

                matchStates.Add(state);
            }

            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            var options = new ListConsumerGroupsOptions { RequestTimeout = settings.Timeout };
            if (matchStates.Count > 0)
            {
                options.MatchStates = matchStates;
            }

            ListConsumerGroupsResult listed;
            try
            {
                listed = await session.Watch.WaitAsync(session.Admin.ListConsumerGroupsAsync(options), ct).ConfigureAwait(false);
            }
            catch (ListConsumerGroupsException e) when (e.Results.Valid.Count > 0 || e.Results.Errors.Count > 0)
            {
                // Some broker did not answer: list what the others know, say which failed.
                foreach (var error in e.Results.Errors)
                {
                    Output.Info($"samsa: warning: {Output.Describe(error)}");
                }

                listed = new ListConsumerGroupsResult { Valid = e.Results.Valid };
            }

            var groups = listed.Valid.OrderBy(g => g.GroupId, StringComparer.Ordinal).ToList();
            var details = await DescribeManyAsync(session, groups.Select(g => g.GroupId).ToList(), ct).ConfigureAwait(false);
            if (Output.GetFormat(parseResult, format) == OutputFormat.Json)
            {
                var array = new JsonArray();
                foreach (var g in groups)
                {
                    details.TryGetValue(g.GroupId, out var d);
                    array.Add(new JsonObject
                    {
                        ["group"] = g.GroupId,
                        ["state"] = g.State.ToString(),
                        ["type"] = TypeName(g.Type),
                        ["protocolType"] = g.IsSimpleConsumerGroup ? "" : "consumer",
                        ["protocol"] = NullIfEmpty(d?.PartitionAssignor),
                        ["members"] = d?.Members?.Count ?? 0,
                    });
                }

                Output.WriteJson(array);
            }
            else
            {
                var table = new TextTable("GROUP", "STATE", "TYPE", "PROTOCOL", "MEMBERS");
                foreach (var g in groups)
                {
                    details.TryGetValue(g.GroupId, out var d);
                    table.Add(g.GroupId, g.State, TypeName(g.Type), NullIfEmpty(d?.PartitionAssignor) ?? "-", d?.Members?.Count ?? 0);
                }

                table.Write(Console.Out);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateDescribe()
    {
        var group = GroupArgument();
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("describe",
            "Show a group's state, members and, per partition, the committed offset, log end offset and lag (log end minus committed).")
        {
            group,
            format,
        };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var groupId = parseResult.GetValue(group)!;
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            var snapshot = await GroupSnapshot.LoadAsync(session, groupId, ct).ConfigureAwait(false);
            if (!snapshot.Exists)
            {
                throw GroupDoesNotExist(groupId);
            }

            var topicPartitions = await TopicPartitionsAsync(session, snapshot.Partitions.Select(tp => tp.Topic), ct).ConfigureAwait(false);
            var logEnd = await ListOffsetsAsync(session, snapshot.Partitions.Union(topicPartitions).ToList(), OffsetSpec.Latest(), ct).ConfigureAwait(false);
            var rows = GroupLagCalculator.Compute(snapshot.Committed, logEnd, snapshot.Owners, topicPartitions);
            var totals = GroupLagCalculator.Totals(rows);
            if (Output.GetFormat(parseResult, format) == OutputFormat.Json)
            {
                Output.WriteJson(DescribeJson(snapshot, rows, totals));
            }
            else
            {
                WriteDescribeTable(Console.Out, snapshot, rows, totals);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateDelete()
    {
        var groups = new Argument<string[]>("group") { Description = "Consumer group id(s).", Arity = ArgumentArity.OneOrMore };
        var client = new ClientOptions();
        var command = new Command("delete", "Delete empty consumer groups and their committed offsets.") { groups };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var ids = (parseResult.GetValue(groups) ?? []).Distinct(StringComparer.Ordinal).ToList();
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            List<DeleteGroupReport> reports;
            try
            {
                await session.Watch.WaitAsync(session.Admin.DeleteGroupsAsync(ids,
                    new DeleteGroupsOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
                reports = ids.Select(id => new DeleteGroupReport { Group = id, Error = new Error(ErrorCode.NoError) }).ToList();
            }
            catch (DeleteGroupsException e)
            {
                reports = e.Results;
            }

            int failed = 0;
            foreach (var report in reports)
            {
                if (!report.Error.IsError)
                {
                    Output.Info($"Deleted consumer group '{report.Group}'.");
                    continue;
                }

                failed++;
                var message = report.Error.Code switch
                {
                    ErrorCode.NonEmptyGroup => $"Consumer group '{report.Group}' has active members; stop its consumers before deleting it (NON_EMPTY_GROUP)",
                    ErrorCode.GroupIdNotFound => GroupDoesNotExist(report.Group).Message,
                    _ => $"Could not delete consumer group '{report.Group}': {Output.Describe(report.Error)}",
                };
                await Console.Error.WriteLineAsync($"samsa: error: {message}").ConfigureAwait(false);
            }

            return failed == 0 ? ExitCodes.Ok : ExitCodes.Error;
        }));
        return command;
    }

    internal static CliException GroupDoesNotExist(string group) => new($"Consumer group '{group}' does not exist");

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string TypeName(ConsumerGroupType type) => type switch
    {
        ConsumerGroupType.Classic => "classic",
        ConsumerGroupType.Consumer => "consumer",
        _ => "unknown",
    };

    private static async Task<Dictionary<string, ConsumerGroupDescription>> DescribeManyAsync(AdminSession session, List<string> groups, CancellationToken ct)
    {
        var result = new Dictionary<string, ConsumerGroupDescription>(StringComparer.Ordinal);
        if (groups.Count == 0)
        {
            return result;
        }

        List<ConsumerGroupDescription> descriptions;
        try
        {
            var described = await session.Watch.WaitAsync(session.Admin.DescribeConsumerGroupsAsync(groups,
                new DescribeConsumerGroupsOptions { RequestTimeout = session.Settings.Timeout }), ct).ConfigureAwait(false);
            descriptions = described.ConsumerGroupDescriptions;
        }
        catch (DescribeConsumerGroupsException e)
        {
            descriptions = e.Results.ConsumerGroupDescriptions;
        }

        foreach (var d in descriptions.Where(d => !d.Error.IsError))
        {
            result[d.GroupId] = d;
        }

        return result;
    }

    /// <summary>Every partition of these topics; topics that no longer exist contribute none (their rows show "-").</summary>
    private static async Task<List<TopicPartition>> TopicPartitionsAsync(AdminSession session, IEnumerable<string> topics, CancellationToken ct)
    {
        var result = new List<TopicPartition>();
        foreach (var topic in topics.Distinct(StringComparer.Ordinal))
        {
            var metadata = await session.Watch.RunAsync(() => session.Admin.GetMetadata(topic, session.Settings.Timeout), ct).ConfigureAwait(false);
            foreach (var t in metadata.Topics.Where(t => t.Topic == topic && !t.Error.IsError))
            {
                result.AddRange(t.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)));
            }
        }

        return result;
    }

    /// <summary>
    /// ListOffsets for many partitions at once; partitions the cluster could not answer for (deleted topic, no leader) are
    /// left out, so callers show "-" instead of failing the whole view.
    /// </summary>
    internal static async Task<Dictionary<TopicPartition, long>> ListOffsetsAsync(AdminSession session, IReadOnlyCollection<TopicPartition> partitions,
        OffsetSpec spec, CancellationToken ct)
    {
        var result = new Dictionary<TopicPartition, long>();
        if (partitions.Count == 0)
        {
            return result;
        }

        IEnumerable<ListOffsetsResultInfo> infos;
        try
        {
            var listed = await session.Watch.WaitAsync(session.Admin.ListOffsetsAsync(
                partitions.Select(tp => new TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = spec }),
                new ListOffsetsOptions { RequestTimeout = session.Settings.Timeout }), ct).ConfigureAwait(false);
            infos = listed.ResultInfos;
        }
        catch (ListOffsetsException e)
        {
            infos = e.Result.ResultInfos;
        }

        foreach (var info in infos)
        {
            var tpo = info.TopicPartitionOffsetError;
            if (!tpo.Error.IsError)
            {
                result[tpo.TopicPartition] = tpo.Offset.Value;
            }
        }

        return result;
    }

    private static JsonObject DescribeJson(GroupSnapshot snapshot, IReadOnlyList<PartitionLag> rows, LagTotals totals)
    {
        var members = new JsonArray();
        foreach (var m in snapshot.Members)
        {
            var assigned = new JsonArray();
            foreach (var tp in Assigned(m))
            {
                assigned.Add(new JsonObject { ["topic"] = tp.Topic, ["partition"] = tp.Partition.Value });
            }

            members.Add(new JsonObject
            {
                ["memberId"] = m.ConsumerId,
                ["groupInstanceId"] = m.GroupInstanceId,
                ["clientId"] = m.ClientId,
                ["host"] = m.Host,
                ["assignment"] = assigned,
            });
        }

        var partitions = new JsonArray();
        foreach (var r in rows)
        {
            partitions.Add(new JsonObject
            {
                ["topic"] = r.Topic,
                ["partition"] = r.Partition,
                ["committedOffset"] = r.Committed,
                ["logEndOffset"] = r.LogEndOffset,
                ["lag"] = r.Lag,
                ["memberId"] = r.MemberId,
                ["clientId"] = r.ClientId,
                ["host"] = r.Host,
            });
        }

        return new JsonObject
        {
            ["group"] = snapshot.GroupId,
            ["state"] = snapshot.State.ToString(),
            ["type"] = TypeName(snapshot.Type),
            ["protocol"] = NullIfEmpty(snapshot.Protocol),
            ["coordinator"] = snapshot.Coordinator,
            ["members"] = members,
            ["partitions"] = partitions,
            ["totalLag"] = totals.Lag,
            ["partitionsWithoutCommittedOffset"] = totals.WithoutCommit,
        };
    }

    private static void WriteDescribeTable(TextWriter writer, GroupSnapshot snapshot, IReadOnlyList<PartitionLag> rows, LagTotals totals)
    {
        writer.WriteLine($"Group: {snapshot.GroupId}  State: {snapshot.State}  Type: {TypeName(snapshot.Type)}  " +
                         $"Protocol: {NullIfEmpty(snapshot.Protocol) ?? "-"}  Members: {snapshot.Members.Count}  " +
                         $"Coordinator: {(snapshot.Coordinator is { } c ? c : "-")}");
        if (snapshot.Members.Count > 0)
        {
            writer.WriteLine();
            var members = new TextTable("MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT");
            foreach (var m in snapshot.Members)
            {
                var assigned = Assigned(m).GroupBy(tp => tp.Topic, StringComparer.Ordinal)
                    .Select(g => $"{g.Key}:{string.Join(",", g.Select(tp => tp.Partition.Value).Order())}");
                members.Add(m.ConsumerId, m.ClientId, m.Host, string.Join(" ", assigned) is { Length: > 0 } a ? a : "-");
            }

            members.Write(writer);
        }

        writer.WriteLine();
        if (rows.Count == 0)
        {
            writer.WriteLine("No committed offsets and no assigned partitions.");
            return;
        }

        var table = new TextTable("TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID", "CLIENT-ID", "HOST");
        foreach (var r in rows)
        {
            table.Add(r.Topic, r.Partition, Dash(r.Committed), Dash(r.LogEndOffset), Dash(r.Lag), r.MemberId ?? "-", r.ClientId ?? "-", r.Host ?? "-");
        }

        table.Write(writer);
        writer.WriteLine();
        writer.WriteLine($"Total lag: {totals.Lag} over {totals.Partitions} partition{(totals.Partitions == 1 ? "" : "s")}" +
                         (totals.WithoutCommit > 0 ? $" ({totals.WithoutCommit} without a committed offset)" : ""));
    }

    private static string Dash(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-";

    private static IEnumerable<TopicPartition> Assigned(MemberDescription member) =>
        (member.Assignment?.TopicPartitions ?? []).OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition.Value);

    /// <summary>A group as DescribeGroups and OffsetFetch see it at one moment: state, members, committed offsets.</summary>
    internal sealed class GroupSnapshot
    {
        public required string GroupId { get; init; }
        public ConsumerGroupState State { get; init; }
        public ConsumerGroupType Type { get; init; }
        public string? Protocol { get; init; }
        public int? Coordinator { get; init; }
        public required IReadOnlyList<MemberDescription> Members { get; init; }
        public required IReadOnlyDictionary<TopicPartition, long> Committed { get; init; }
        public required IReadOnlyDictionary<TopicPartition, GroupLagCalculator.Owner> Owners { get; init; }

        /// <summary>Kafka answers DescribeGroups for an unknown id with state Dead; with no offsets either, there is no such group.</summary>
        public bool Exists => !(State is ConsumerGroupState.Dead or ConsumerGroupState.Unknown && Members.Count == 0 && Committed.Count == 0);

        public bool HasActiveMembers => Members.Count > 0;

        public IReadOnlyCollection<TopicPartition> Partitions => Committed.Keys.Union(Owners.Keys).ToList();

        public static async Task<GroupSnapshot> LoadAsync(AdminSession session, string groupId, CancellationToken ct)
        {
            var timeout = session.Settings.Timeout;
            var deadline = DateTime.UtcNow + timeout;
            ConsumerGroupDescription description;
            while (true)
            {
                try
                {
                    var described = await session.Watch.WaitAsync(session.Admin.DescribeConsumerGroupsAsync([groupId],
                        new DescribeConsumerGroupsOptions { RequestTimeout = timeout }), ct).ConfigureAwait(false);
                    description = described.ConsumerGroupDescriptions.Single();
                    break;
                }
                catch (DescribeConsumerGroupsException e) when (e.Results.ConsumerGroupDescriptions.Count > 0)
                {
                    var error = e.Results.ConsumerGroupDescriptions[0].Error;
                    if (error.Code == ErrorCode.GroupIdNotFound)
                    {
                        throw GroupDoesNotExist(groupId);
                    }

                    // On a fresh node the coordinator (and __consumer_offsets) may still be starting: retriable.
                    if (error.Code is ErrorCode.GroupCoordinatorNotAvailable or ErrorCode.GroupLoadInProgress or ErrorCode.NotCoordinatorForGroup
                        && DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(200, ct).ConfigureAwait(false);
                        continue;
                    }

                    throw new CliException($"Could not describe consumer group '{groupId}': {Output.Describe(error)}");
                }
            }

            List<TopicPartitionOffsetError> offsets;
            try
            {
                var fetched = await session.Watch.WaitAsync(session.Admin.ListConsumerGroupOffsetsAsync(
                    [new ConsumerGroupTopicPartitions(groupId, null)],
                    new ListConsumerGroupOffsetsOptions { RequestTimeout = timeout }), ct).ConfigureAwait(false);
                offsets = fetched.SelectMany(r => r.Partitions).ToList();
            }
            catch (ListConsumerGroupOffsetsException e) when (e.Results.Count > 0)
            {
                if (e.Results[0].Error.IsError)
                {
                    if (e.Results[0].Error.Code == ErrorCode.GroupIdNotFound)
                    {
                        throw GroupDoesNotExist(groupId);
                    }

                    throw new CliException($"Could not fetch the committed offsets of consumer group '{groupId}': {Output.Describe(e.Results[0].Error)}");
                }

                offsets = e.Results[0].Partitions.Where(p => !p.Error.IsError).ToList();
            }

            var members = description.Members ?? [];
            var owners = new Dictionary<TopicPartition, GroupLagCalculator.Owner>();
            foreach (var m in members)
            {
                foreach (var tp in m.Assignment?.TopicPartitions ?? [])
                {
                    owners[tp] = new GroupLagCalculator.Owner(m.ConsumerId, m.ClientId, m.Host);
                }
            }

            return new GroupSnapshot
            {
                GroupId = groupId,
                State = description.State,
                Type = description.GroupType,
                Protocol = description.PartitionAssignor,
                Coordinator = description.Coordinator?.Id,
                Members = members,
                Committed = offsets.Where(o => o.Offset.Value >= 0).ToDictionary(o => o.TopicPartition, o => o.Offset.Value),
                Owners = owners,
            };
        }
    }
}

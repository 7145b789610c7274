using System.CommandLine;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa topic create|list|describe|alter-config|add-partitions|delete</c>: topic administration over the Kafka
/// admin API (CreateTopics, Metadata, ListOffsets, DescribeConfigs, IncrementalAlterConfigs, CreatePartitions,
/// DeleteTopics), like kafka-topics.sh and kafka-configs.sh.
/// </summary>
internal static class TopicCommand
{
    public static Command Create()
    {
        var command = new Command("topic", "Create, list, describe, configure and delete topics.");
        command.Subcommands.Add(CreateCreate());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateDescribe());
        command.Subcommands.Add(CreateAlterConfig());
        command.Subcommands.Add(CreateAddPartitions());
        command.Subcommands.Add(CreateDelete());
        return command;
    }

    private static Argument<string> TopicArgument() => new("name") { Description = "Topic name." };

    private static Command CreateCreate()
    {
        var name = TopicArgument();
        var partitions = new Option<int?>("--partitions", "-p")
        {
            Description = "Number of partitions (default: the broker's num.partitions).",
            HelpName = "N",
        };
        var replicationFactor = new Option<short?>("--replication-factor", "-r")
        {
            Description = "Replicas per partition (default: the broker's default.replication.factor).",
            HelpName = "N",
        };
        var configs = new Option<string[]>("--config", "-c")
        {
            Description = "Topic config (repeatable), e.g. --config retention.ms=86400000 --config cleanup.policy=compact.",
            HelpName = "key=value",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var ifNotExists = new Option<bool>("--if-not-exists") { Description = "Succeed without change if the topic already exists." };
        var client = new ClientOptions();
        var command = new Command("create", "Create a topic.") { name, partitions, replicationFactor, configs, ifNotExists };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var topic = parseResult.GetValue(name)!;
            var count = parseResult.GetValue(partitions);
            var factor = parseResult.GetValue(replicationFactor);
            if (count is <= 0)
            {
                throw CliException.Usage("--partitions must be at least 1");
            }

            if (factor is <= 0)
            {
                throw CliException.Usage("--replication-factor must be at least 1");
            }

            var spec = new TopicSpecification
            {
                Name = topic,
                NumPartitions = count ?? -1,
                ReplicationFactor = factor ?? -1,
                Configs = KeyValueArgs.Parse(parseResult.GetValue(configs) ?? [], "--config").ToDictionary(kv => kv.Key, kv => kv.Value),
            };
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            try
            {
                await session.Watch.WaitAsync(session.Admin.CreateTopicsAsync([spec],
                    new CreateTopicsOptions { RequestTimeout = settings.Timeout, OperationTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            }
            catch (CreateTopicsException e) when (e.Results.Count > 0 && e.Results[0].Error.IsError)
            {
                var error = e.Results[0].Error;
                if (error.Code == ErrorCode.TopicAlreadyExists)
                {
                    if (parseResult.GetValue(ifNotExists))
                    {
                        Output.Info($"Topic '{topic}' already exists.");
                        return ExitCodes.Ok;
                    }

                    throw new CliException($"Topic '{topic}' already exists");
                }

                throw new CliException($"Could not create topic '{topic}': {Output.Describe(error)}");
            }

            var detail = new List<string>();
            if (count is { } n) detail.Add($"{n} partition{(n == 1 ? "" : "s")}");
            if (factor is { } f) detail.Add($"replication factor {f}");
            Output.Info($"Created topic '{topic}'{(detail.Count > 0 ? $" ({string.Join(", ", detail)})" : "")}.");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateList()
    {
        var includeInternal = new Option<bool>("--include-internal") { Description = "Also list internal topics (__consumer_offsets, ...)." };
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("list", "List topics.") { includeInternal, format };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            var metadata = await session.Watch.RunAsync(() => session.Admin.GetMetadata(settings.Timeout), ct).ConfigureAwait(false);
            var topics = metadata.Topics
                .Where(t => t.Error.Code != ErrorCode.UnknownTopicOrPart)
                .Where(t => parseResult.GetValue(includeInternal) || !IsInternal(t.Topic))
                .OrderBy(t => t.Topic, StringComparer.Ordinal)
                .ToList();

            if (Output.GetFormat(parseResult, format) == OutputFormat.Json)
            {
                var array = new JsonArray();
                foreach (var t in topics)
                {
                    array.Add(new JsonObject
                    {
                        ["name"] = t.Topic,
                        ["partitions"] = t.Partitions.Count,
                        ["replicationFactor"] = ReplicationFactor(t),
                        ["internal"] = IsInternal(t.Topic),
                    });
                }

                Output.WriteJson(array);
            }
            else
            {
                var table = new TextTable("TOPIC", "PARTITIONS", "REPLICATION-FACTOR");
                foreach (var t in topics)
                {
                    table.Add(t.Topic, t.Partitions.Count, ReplicationFactor(t));
                }

                table.Write(Console.Out);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateDescribe()
    {
        var name = TopicArgument();
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var metricsUrl = CleanerStatus.CreateOption();
        var command = new Command("describe", "Show a topic's partitions (leader, replicas, ISR, earliest and latest offsets; for compacted topics " +
                                              "the cleaner's dirty ratio and last-clean time) and configs with their sources.")
        {
            name,
            format,
            metricsUrl,
        };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var topic = parseResult.GetValue(name)!;
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            var description = await TopicDescription.LoadAsync(session, topic, ct).ConfigureAwait(false);
            if (description.IsCompacted)
            {
                // Best effort: the cleaner's progress is only on a node's HTTP endpoint; describe never fails for it.
                var url = CleanerStatus.ResolveUrl(parseResult.GetValue(metricsUrl), settings.Profile);
                var timeout = settings.Timeout < TimeSpan.FromSeconds(3) ? settings.Timeout : TimeSpan.FromSeconds(3);
                var (cleaner, failure) = await CleanerStatus.FetchAsync(url, topic, timeout, ct).ConfigureAwait(false);
                if (cleaner is not null) description = description with { Cleaner = cleaner };
                else Output.Info($"samsa: note: cleaner progress (dirty ratio, last clean) not shown: {failure}; set --metrics-url or ${CleanerStatus.EnvironmentVariable}.");
            }

            if (Output.GetFormat(parseResult, format) == OutputFormat.Json)
            {
                Output.WriteJson(description.ToJson());
            }
            else
            {
                description.WriteTable(Console.Out);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateAlterConfig()
    {
        var name = TopicArgument();
        var set = new Option<string[]>("--set")
        {
            Description = "Set a topic config (repeatable).",
            HelpName = "key=value",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var delete = new Option<string[]>("--delete")
        {
            Description = "Remove a topic config override, reverting to the broker default (repeatable).",
            HelpName = "key",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var client = new ClientOptions();
        var command = new Command("alter-config", "Set or remove topic config overrides (IncrementalAlterConfigs).") { name, set, delete };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var topic = parseResult.GetValue(name)!;
            var sets = KeyValueArgs.Parse(parseResult.GetValue(set) ?? [], "--set");
            var deletes = (parseResult.GetValue(delete) ?? []).Select(k => k.Trim()).ToList();
            if (sets.Count == 0 && deletes.Count == 0)
            {
                throw CliException.Usage("nothing to change: give at least one --set key=value or --delete key");
            }

            if (deletes.FirstOrDefault(k => k.Length == 0 || k.Contains('=', StringComparison.Ordinal)) is { } bad)
            {
                throw CliException.Usage($"--delete takes a config name, got '{bad}'");
            }

            var entries = sets.Select(kv => new ConfigEntry { Name = kv.Key, Value = kv.Value, IncrementalOperation = AlterConfigOpType.Set })
                .Concat(deletes.Select(k => new ConfigEntry { Name = k, IncrementalOperation = AlterConfigOpType.Delete }))
                .ToList();
            var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            try
            {
                await session.Watch.WaitAsync(session.Admin.IncrementalAlterConfigsAsync(
                    new Dictionary<ConfigResource, List<ConfigEntry>> { [resource] = entries },
                    new IncrementalAlterConfigsOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            }
            catch (IncrementalAlterConfigsException e) when (e.Results.Count > 0 && e.Results[0].Error.IsError)
            {
                throw TopicError(topic, "alter configs of", e.Results[0].Error);
            }

            foreach (var (key, value) in sets)
            {
                Output.Info($"Set {key}={value} on topic '{topic}'.");
            }

            foreach (var key in deletes)
            {
                Output.Info($"Removed {key} from topic '{topic}'.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateAddPartitions()
    {
        var name = TopicArgument();
        var total = new Option<int>("--total")
        {
            Description = "The new total number of partitions (must exceed the current count).",
            HelpName = "N",
            Required = true,
        };
        var client = new ClientOptions();
        var command = new Command("add-partitions", "Increase a topic's partition count (CreatePartitions).") { name, total };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var topic = parseResult.GetValue(name)!;
            var count = parseResult.GetValue(total);
            if (count <= 0)
            {
                throw CliException.Usage("--total must be at least 1");
            }

            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            try
            {
                await session.Watch.WaitAsync(session.Admin.CreatePartitionsAsync(
                    [new PartitionsSpecification { Topic = topic, IncreaseTo = count }],
                    new CreatePartitionsOptions { RequestTimeout = settings.Timeout, OperationTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            }
            catch (CreatePartitionsException e) when (e.Results.Count > 0 && e.Results[0].Error.IsError)
            {
                throw TopicError(topic, "add partitions to", e.Results[0].Error);
            }

            Output.Info($"Topic '{topic}' now has {count} partitions.");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateDelete()
    {
        var name = TopicArgument();
        var ifExists = new Option<bool>("--if-exists") { Description = "Succeed without change if the topic does not exist." };
        var client = new ClientOptions();
        var command = new Command("delete", "Delete a topic and all its records.") { name, ifExists };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var topic = parseResult.GetValue(name)!;
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            try
            {
                await session.Watch.WaitAsync(session.Admin.DeleteTopicsAsync([topic],
                    new DeleteTopicsOptions { RequestTimeout = settings.Timeout, OperationTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            }
            catch (DeleteTopicsException e) when (e.Results.Count > 0 && e.Results[0].Error.IsError)
            {
                if (Output.IsUnknownTopic(e.Results[0].Error.Code) && parseResult.GetValue(ifExists))
                {
                    Output.Info($"Topic '{topic}' does not exist.");
                    return ExitCodes.Ok;
                }

                throw TopicError(topic, "delete", e.Results[0].Error);
            }

            Output.Info($"Deleted topic '{topic}'.");
            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static CliException TopicError(string topic, string action, Error error) =>
        Output.IsUnknownTopic(error.Code)
            ? CliException.TopicDoesNotExist(topic)
            : new CliException($"Could not {action} topic '{topic}': {Output.Describe(error)}");

    private static bool IsInternal(string topic) => topic.StartsWith("__", StringComparison.Ordinal);

    private static int ReplicationFactor(TopicMetadata topic) => topic.Partitions.Count == 0 ? 0 : topic.Partitions.Max(p => p.Replicas.Length);
}

/// <summary>An admin client plus the watch that makes it fail fast when the cluster is unreachable.</summary>
internal sealed class AdminSession : IDisposable
{
    private AdminSession(IAdminClient admin, BrokerWatch watch, ClientSettings settings)
    {
        Admin = admin;
        Watch = watch;
        Settings = settings;
    }

    public IAdminClient Admin { get; }
    public BrokerWatch Watch { get; }
    public ClientSettings Settings { get; }

    public static async Task<AdminSession> OpenAsync(ClientSettings settings, CancellationToken ct)
    {
        await settings.EnsureReachableAsync(ct).ConfigureAwait(false);
        var watch = new BrokerWatch(settings);
        var admin = new AdminClientBuilder(settings.AdminConfig())
            .SetErrorHandler((_, e) => watch.OnError(e))
            .SetLogHandler((_, m) => watch.OnLog(m))
            .Build();
        return new AdminSession(admin, watch, settings);
    }

    /// <summary>Metadata of one existing topic; "does not exist" and unreachable clusters become operator errors.</summary>
    public Task<TopicMetadata> GetTopicAsync(string topic, CancellationToken ct) => GetTopicAsync(Admin, Watch, Settings, topic, ct);

    /// <summary>As above for any admin handle, e.g. one sharing a producer's or consumer's connections.</summary>
    public static async Task<TopicMetadata> GetTopicAsync(IAdminClient admin, BrokerWatch watch, ClientSettings settings, string topic, CancellationToken ct)
    {
        var metadata = await watch.RunAsync(() => admin.GetMetadata(topic, settings.Timeout), ct).ConfigureAwait(false);
        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
        if (found is null || Output.IsUnknownTopic(found.Error.Code))
        {
            throw CliException.TopicDoesNotExist(topic);
        }

        if (found.Error.IsError)
        {
            throw new CliException($"Could not describe topic '{topic}': {Output.Describe(found.Error)}");
        }

        return found;
    }

    public void Dispose()
    {
        Admin.Dispose();
        Watch.Dispose();
    }
}

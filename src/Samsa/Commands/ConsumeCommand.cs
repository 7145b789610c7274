using System.CommandLine;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa consume &lt;topic&gt;</c>: prints records to stdout, like kafka-console-consumer.sh / kcat -C.
/// Without --group every partition is assigned directly (no group, nothing committed); with --group the topic is
/// subscribed and offsets are committed. Without --follow it stops once each partition reached the end it had when
/// the command started (records appended later are not printed), detected by partition EOF or offset.
/// </summary>
internal static class ConsumeCommand
{
    public static Command Create()
    {
        var topicArgument = new Argument<string>("topic") { Description = "Topic to read." };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the earliest offset (with --group: when the group has no committed offset)." };
        var offset = new Option<long?>("--offset")
        {
            Description = "Start at this offset in every partition; negative means that many records before the end.",
            HelpName = "N",
        };
        var fromTimestamp = new Option<string?>("--from-timestamp")
        {
            Description = "Start at the first record at or after this time: ISO 8601 (UTC unless an offset is given) or Unix ms.",
            HelpName = "time",
        };
        var group = new Option<string?>("--group", "-g")
        {
            Description = "Consume as a member of this consumer group (offsets committed). Default: no group, all partitions.",
            HelpName = "id",
        };
        var partitions = new Option<int[]>("--partition", "-p")
        {
            Description = "Only these partitions (repeatable; not with --group).",
            HelpName = "N",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var max = new Option<long?>("--max", "-n") { Description = "Exit after this many records.", HelpName = "N" };
        var follow = new Option<bool>("--follow") { Description = "Keep waiting for new records (Ctrl+C to stop) instead of exiting at the end." };
        var format = new Option<string>("--format")
        {
            Description = "value: the value; kv: key, separator, value; json: one object per line " +
                          "{topic,partition,offset,timestamp,key,value,headers}.",
            DefaultValueFactory = _ => "value",
        };
        format.AcceptOnlyFromAmong("value", "kv", "json");
        var template = new Option<string?>("-f", "--template")
        {
            Description = "kcat-style template instead of --format: %t topic, %p partition, %o offset, %T timestamp ms, " +
                          "%k key, %s value, %h headers, %% percent; \\n \\t escapes. Example: -f '%p:%o %k=%s\\n'.",
            HelpName = "template",
        };
        var keySeparator = new Option<string>("--key-separator", "-K")
        {
            Description = "Separator between key and value for --format kv.",
            HelpName = "sep",
            DefaultValueFactory = _ => "\\t",
        };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No summary on stderr." };

        var client = new ClientOptions();
        var command = new Command("consume", "Read records from a topic and print them.")
        {
            topicArgument, fromBeginning, offset, fromTimestamp, group, partitions, max, follow, format, template, keySeparator, quiet,
        };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(() =>
        {
            var settings = client.Bind(parseResult);
            var starts = (parseResult.GetValue(fromBeginning) ? 1 : 0) + (parseResult.GetValue(offset) is null ? 0 : 1) +
                         (parseResult.GetValue(fromTimestamp) is null ? 0 : 1);
            if (starts > 1)
            {
                throw CliException.Usage("choose one of --from-beginning, --offset and --from-timestamp");
            }

            var selected = parseResult.GetValue(partitions) ?? [];
            var groupId = parseResult.GetValue(group);
            if (groupId is not null && selected.Length > 0)
            {
                throw CliException.Usage("--partition cannot be combined with --group (the group assigns partitions)");
            }

            if (groupId is { Length: 0 })
            {
                throw CliException.Usage("--group must not be empty");
            }

            var maxRecords = parseResult.GetValue(max);
            if (maxRecords is <= 0)
            {
                throw CliException.Usage("--max must be at least 1");
            }

            var start = parseResult.GetValue(fromBeginning) ? StartPosition.Beginning
                : parseResult.GetValue(offset) is { } n ? StartPosition.AtOffset(n)
                : parseResult.GetValue(fromTimestamp) is { } t ? StartPosition.AtTime(ParseTimestamp(t))
                : StartPosition.End;
            var formatter = ConsumeFormat.Create(parseResult.GetValue(format) ?? "value", parseResult.GetValue(template),
                ProduceCommand.Unescape(parseResult.GetValue(keySeparator) ?? "\\t"));
            var request = new ConsumeRequest(parseResult.GetValue(topicArgument)!, start, groupId, selected, maxRecords,
                parseResult.GetValue(follow), formatter, parseResult.GetValue(quiet));
            return RunAsync(settings, request, ct);
        }));
        return command;
    }

    internal static long ParseTimestamp(string text)
    {
        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms))
        {
            return ms;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return time.ToUnixTimeMilliseconds();
        }

        throw CliException.Usage($"--from-timestamp: '{text}' is neither an ISO 8601 time (2025-01-31T12:00:00Z) nor Unix milliseconds");
    }

    private sealed record ConsumeRequest(string Topic, StartPosition Start, string? Group, int[] Partitions, long? Max, bool Follow,
        ConsumeFormat Format, bool Quiet);

    private sealed record StartPosition(char Kind, long Value)
    {
        public static readonly StartPosition Beginning = new('b', 0);
        public static readonly StartPosition End = new('e', 0);

        public static StartPosition AtOffset(long offset) => new('o', offset);

        public static StartPosition AtTime(long unixMs) => new('t', unixMs);
    }

    private static async Task<int> RunAsync(ClientSettings settings, ConsumeRequest request, CancellationToken ct)
    {
        var config = settings.Apply(new ConsumerConfig
        {
            EnablePartitionEof = true,
            AutoOffsetReset = request.Start == StartPosition.Beginning ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest,
        });
        if (request.Group is { } groupId)
        {
            config.GroupId = groupId;
            config.EnableAutoCommit = true;
        }
        else
        {
            // Confluent.Kafka requires a group.id even for assign(); a throwaway one that never joins, subscribes or commits
            // leaves no state on the cluster.
            config.GroupId = $"samsa-cli-{Guid.NewGuid():N}";
            config.EnableAutoCommit = false;
            config.EnableAutoOffsetStore = false;
        }

        await settings.EnsureReachableAsync(ct).ConfigureAwait(false);
        using var watch = new BrokerWatch(settings);
        var run = new ConsumeRun(request);
        var builder = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => watch.OnError(e))
            .SetLogHandler((_, m) => watch.OnLog(m));
        if (request.Group is not null)
        {
            builder.SetPartitionsAssignedHandler((c, assigned) => run.OnAssigned(c, assigned, settings.Timeout))
                .SetPartitionsRevokedHandler((_, revoked) => run.OnRevoked(revoked))
                .SetPartitionsLostHandler((_, lost) => run.OnRevoked(lost));
        }

        using var consumer = builder.Build();
        TopicMetadata topic;
        using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
        {
            topic = await AdminSession.GetTopicAsync(admin, watch, settings, request.Topic, ct).ConfigureAwait(false);
            var missing = request.Partitions.Where(p => topic.Partitions.All(m => m.PartitionId != p)).ToList();
            if (missing.Count > 0)
            {
                throw new CliException($"Topic '{request.Topic}' has {topic.Partitions.Count} partition(s); partition {missing[0]} does not exist");
            }

            if (request.Group is null)
            {
                var wanted = request.Partitions.Length > 0 ? request.Partitions : topic.Partitions.Select(p => p.PartitionId).ToArray();
                var assignment = await run.PlanAssignmentAsync(admin, watch, settings, wanted, ct).ConfigureAwait(false);
                if (assignment.Count > 0)
                {
                    consumer.Assign(assignment);
                }
            }
            else
            {
                consumer.Subscribe(request.Topic);
            }
        }

        using var signal = new ShutdownSignal();
        var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { AutoFlush = false };
        try
        {
            await Task.Run(() => run.Loop(consumer, watch, stdout, settings.Timeout * 3, signal.Token), CancellationToken.None).ConfigureAwait(false);
            stdout.Flush();
        }
        catch (IOException)
        {
            // stdout closed early (e.g. piped into `head`): the reader has what it wanted.
            run.OutputClosed = true;
        }
        finally
        {
            if (request.Group is not null && !watch.IsDown)
            {
                // Leave the group cleanly and commit what was printed.
                consumer.Close();
            }
        }

        if (watch.IsDown && !run.Finished)
        {
            throw watch.Unreachable();
        }

        if (!request.Quiet && !run.OutputClosed)
        {
            Output.Info($"Consumed {run.Count} record{(run.Count == 1 ? "" : "s")} from topic '{request.Topic}'.");
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// State of one consume run. The loop and the rebalance callbacks both run on the consuming thread
    /// (librdkafka calls rebalance handlers from inside Consume), so no locking is needed.
    /// </summary>
    private sealed class ConsumeRun(ConsumeRequest request)
    {
        private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

        // Without --follow: partition → first offset not to print (the end when the command started; direct assignment only),
        // and the partitions that have not reached their end yet.
        private readonly Dictionary<int, long> _stopAt = [];
        private readonly HashSet<int> _pending = [];
        private readonly HashSet<int> _started = [];
        private bool _assigned;
        private bool _everAssigned;

        public long Count { get; private set; }
        public bool Finished { get; private set; }
        public bool OutputClosed { get; set; }

        private bool Complete => request.Group is null ? _pending.Count == 0 : _assigned && _pending.Count == 0;

        /// <summary>Resolves start offsets (and, without --follow, the end offsets to stop at) for a direct assignment.</summary>
        public async Task<List<TopicPartitionOffset>> PlanAssignmentAsync(IAdminClient admin, BrokerWatch watch, ClientSettings settings,
            int[] partitions, CancellationToken ct)
        {
            var earliest = await ListAsync(admin, watch, settings, partitions, OffsetSpec.Earliest(), ct).ConfigureAwait(false);
            var latest = await ListAsync(admin, watch, settings, partitions, OffsetSpec.Latest(), ct).ConfigureAwait(false);
            var byTime = request.Start.Kind == 't'
                ? await ListAsync(admin, watch, settings, partitions, OffsetSpec.ForTimestamp(request.Start.Value), ct).ConfigureAwait(false)
                : [];

            var assignment = new List<TopicPartitionOffset>();
            foreach (var p in partitions)
            {
                long low = earliest.GetValueOrDefault(p, 0);
                long high = latest.GetValueOrDefault(p, 0);
                long start = request.Start.Kind switch
                {
                    'b' => low,
                    'o' when request.Start.Value < 0 => Math.Max(low, high + request.Start.Value),
                    'o' => Math.Max(low, request.Start.Value),
                    // No record at or after the time: ListOffsets answers -1, i.e. start at the end.
                    't' => byTime.GetValueOrDefault(p, -1) is var at and >= 0 ? at : high,
                    _ => high,
                };
                if (!request.Follow)
                {
                    if (start >= high)
                    {
                        continue;
                    }

                    _stopAt[p] = high;
                    _pending.Add(p);
                }

                assignment.Add(new TopicPartitionOffset(request.Topic, p, start));
            }

            return assignment;
        }

        private async Task<Dictionary<int, long>> ListAsync(IAdminClient admin, BrokerWatch watch, ClientSettings settings, int[] partitions,
            OffsetSpec spec, CancellationToken ct)
        {
            var listed = await watch.WaitAsync(admin.ListOffsetsAsync(
                partitions.Select(p => new TopicPartitionOffsetSpec { TopicPartition = new TopicPartition(request.Topic, p), OffsetSpec = spec }),
                new ListOffsetsOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            var result = new Dictionary<int, long>();
            foreach (var info in listed.ResultInfos)
            {
                var tpo = info.TopicPartitionOffsetError;
                if (tpo.Error.IsError)
                {
                    throw new CliException($"Could not list offsets of {tpo.Topic}[{tpo.Partition.Value}]: {Output.Describe(tpo.Error)}");
                }

                result[tpo.Partition.Value] = tpo.Offset.Value;
            }

            return result;
        }

        /// <summary>
        /// Group mode: an explicit --offset/--from-timestamp applies the first time this member gets a partition; later
        /// rebalances resume from the committed offset. --from-beginning and the default use the committed offset, falling
        /// back to auto.offset.reset (earliest/latest), as kafka-console-consumer.sh does.
        /// </summary>
        public IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]?> consumer, List<TopicPartition> assigned, TimeSpan timeout)
        {
            _assigned = true;
            _everAssigned = true;
            var result = new List<TopicPartitionOffset>();
            foreach (var tp in assigned)
            {
                if (!request.Follow)
                {
                    _pending.Add(tp.Partition.Value);
                }

                var offset = Offset.Unset;
                if (_started.Add(tp.Partition.Value))
                {
                    if (request.Start.Kind == 'o' && request.Start.Value >= 0)
                    {
                        offset = new Offset(request.Start.Value);
                    }
                    else if (request.Start.Kind == 'o')
                    {
                        var marks = consumer.QueryWatermarkOffsets(tp, timeout);
                        offset = new Offset(Math.Max(marks.Low.Value, marks.High.Value + request.Start.Value));
                    }
                    else if (request.Start.Kind == 't')
                    {
                        var found = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(request.Start.Value, TimestampType.CreateTime))], timeout);
                        offset = found.Count > 0 && found[0].Offset.Value >= 0 ? found[0].Offset : Offset.End;
                    }
                }

                result.Add(new TopicPartitionOffset(tp, offset));
            }

            return result;
        }

        public void OnRevoked(List<TopicPartitionOffset> revoked)
        {
            foreach (var tpo in revoked)
            {
                _pending.Remove(tpo.Partition.Value);
            }

            // Eager rebalancing revokes everything before the new assignment: wait for it before deciding we are done.
            _assigned = false;
        }

        /// <summary>Prints records until --max, the end (without --follow), Ctrl+C, or the cluster becoming unreachable.</summary>
        public void Loop(IConsumer<byte[]?, byte[]?> consumer, BrokerWatch watch, TextWriter output, TimeSpan joinTimeout, CancellationToken stop)
        {
            if (!request.Follow && request.Group is null && _pending.Count == 0)
            {
                Finished = true;
                return;
            }

            var started = System.Diagnostics.Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                if (watch.IsDown)
                {
                    output.Flush();
                    return;
                }

                if (request.Group is { } group && !_everAssigned && started.Elapsed > joinTimeout)
                {
                    throw new CliException($"Could not join consumer group '{group}' within {joinTimeout.TotalSeconds:F0} s: " +
                                           "the group coordinator did not answer (check the broker log; use --timeout to wait longer)");
                }

                ConsumeResult<byte[]?, byte[]?>? record;
                try
                {
                    record = consumer.Consume(PollInterval);
                }
                catch (ConsumeException e)
                {
                    output.Flush();
                    throw Output.IsUnknownTopic(e.Error.Code)
                        ? CliException.TopicDoesNotExist(request.Topic)
                        : new CliException($"Could not read {e.ConsumerRecord?.TopicPartitionOffset.ToString() ?? $"topic '{request.Topic}'"}: {Output.Describe(e.Error)}");
                }

                if (record is null)
                {
                    output.Flush();
                    continue;
                }

                int partition = record.Partition.Value;
                if (record.IsPartitionEOF)
                {
                    output.Flush();
                    if (!request.Follow && Reached(partition))
                    {
                        return;
                    }

                    continue;
                }

                if (!request.Follow && _stopAt.TryGetValue(partition, out var stopAt) && record.Offset.Value >= stopAt)
                {
                    if (Reached(partition))
                    {
                        return;
                    }

                    continue;
                }

                request.Format.Write(output, record);
                Count++;
                if (Count >= request.Max)
                {
                    Finished = true;
                    return;
                }

                if (!request.Follow && _stopAt.TryGetValue(partition, out stopAt) && record.Offset.Value + 1 >= stopAt && Reached(partition))
                {
                    return;
                }
            }

            Finished = true;
        }

        /// <summary>Marks a partition as at its end; true (and Finished) once every partition is.</summary>
        private bool Reached(int partition)
        {
            _pending.Remove(partition);
            if (Complete)
            {
                Finished = true;
                return true;
            }

            return false;
        }
    }
}

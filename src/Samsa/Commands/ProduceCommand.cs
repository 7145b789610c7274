using System.CommandLine;
using System.Text;
using Confluent.Kafka;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa produce &lt;topic&gt;</c>: one record per input line (stdin or --file), like kafka-console-producer.sh.
/// Data never goes to stdout; a summary goes to stderr. Exit 1 if any record was not acknowledged.
/// </summary>
internal static class ProduceCommand
{
    private static readonly string[] CompressionNames = ["none", "gzip", "snappy", "lz4", "zstd"];
    private static readonly string[] AcksNames = ["all", "-1", "1", "0"];

    public static Command Create()
    {
        var topicArgument = new Argument<string>("topic") { Description = "Topic to write to (must exist)." };
        var file = new Option<FileInfo?>("--file", "-F")
        {
            Description = "Read lines from this file instead of stdin.",
            HelpName = "path",
        };
        var keySeparator = new Option<string?>("--key-separator", "-K")
        {
            Description = "Split each line at the first occurrence of this text: key before, value after. " +
                          "Lines without it get a null key. Without this option every record has a null key.",
            HelpName = "sep",
        };
        var headers = new Option<string[]>("--header", "-H")
        {
            Description = "Header added to every record (repeatable).",
            HelpName = "key=value",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var partition = new Option<int?>("--partition", "-p")
        {
            Description = "Write every record to this partition (default: by key hash, murmur2 as Java clients do; " +
                          "null keys spread randomly).",
            HelpName = "N",
        };
        var compression = new Option<string>("--compression", "-z")
        {
            Description = "Batch compression codec.",
            DefaultValueFactory = _ => "none",
        };
        compression.AcceptOnlyFromAmong(CompressionNames);
        var acks = new Option<string>("--acks")
        {
            Description = "Acknowledgements required: all (every in-sync replica), 1 (leader only), 0 (none).",
            DefaultValueFactory = _ => "all",
        };
        acks.AcceptOnlyFromAmong(AcksNames);
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print nothing on success." };

        var client = new ClientOptions();
        var command = new Command("produce", "Write records to a topic, one per line of input.")
        {
            topicArgument, file, keySeparator, headers, partition, compression, acks, quiet,
        };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(() =>
        {
            var settings = client.Bind(parseResult);
            var separator = parseResult.GetValue(keySeparator);
            if (separator is { Length: 0 })
            {
                throw CliException.Usage("--key-separator must not be empty");
            }

            var request = new ProduceRequest(
                parseResult.GetValue(topicArgument)!,
                parseResult.GetValue(file),
                separator is null ? null : Unescape(separator),
                KeyValueArgs.Parse(parseResult.GetValue(headers) ?? [], "--header"),
                parseResult.GetValue(partition),
                parseResult.GetValue(compression) ?? "none",
                parseResult.GetValue(acks) ?? "all",
                parseResult.GetValue(quiet));
            if (request.Partition is < 0)
            {
                throw CliException.Usage("--partition must be 0 or more");
            }

            return RunAsync(settings, request, ct);
        }));
        return command;
    }

    private sealed record ProduceRequest(string Topic, FileInfo? File, string? KeySeparator, List<KeyValuePair<string, string>> Headers,
        int? Partition, string Compression, string Acks, bool Quiet);

    private static async Task<int> RunAsync(ClientSettings settings, ProduceRequest request, CancellationToken ct)
    {
        var config = settings.Apply(new ProducerConfig
        {
            Acks = request.Acks switch
            {
                "0" => Acks.None,
                "1" => Acks.Leader,
                _ => Acks.All,
            },
            CompressionType = Enum.Parse<CompressionType>(request.Compression, ignoreCase: true),
            Partitioner = Partitioner.Murmur2Random,
            LingerMs = 5,
            MessageTimeoutMs = (int)Math.Clamp(settings.Timeout.TotalMilliseconds * 3, 5000, int.MaxValue),
        });

        await settings.EnsureReachableAsync(ct).ConfigureAwait(false);
        using var watch = new BrokerWatch(settings);
        var tally = new DeliveryTally();
        using var producer = new ProducerBuilder<byte[]?, byte[]>(config)
            .SetErrorHandler((_, e) => watch.OnError(e))
            .SetLogHandler((_, m) => watch.OnLog(m))
            .Build();

        // Fail before reading any input if the topic (or partition) does not exist or nobody answers.
        using (var admin = new DependentAdminClientBuilder(producer.Handle).Build())
        {
            var topic = await AdminSession.GetTopicAsync(admin, watch, settings, request.Topic, ct).ConfigureAwait(false);
            if (request.Partition is { } p && topic.Partitions.All(m => m.PartitionId != p))
            {
                throw new CliException($"Topic '{request.Topic}' has {topic.Partitions.Count} partition(s); partition {p} does not exist");
            }
        }

        var headers = new Headers();
        foreach (var (key, value) in request.Headers)
        {
            headers.Add(key, Encoding.UTF8.GetBytes(value));
        }

        using var signal = new ShutdownSignal();
        using var input = request.File is { } f ? OpenFile(f) : new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
        var target = request.Partition is { } partition ? new TopicPartition(request.Topic, partition) : null;
        long lineNumber = 0;
        bool interrupted = false;
        while (true)
        {
            string? line;
            try
            {
                // WaitAsync abandons a blocked stdin read on Ctrl+C; what was already sent is still flushed below.
                line = await input.ReadLineAsync(CancellationToken.None).AsTask().WaitAsync(signal.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                interrupted = true;
                break;
            }

            if (line is null)
            {
                break;
            }

            lineNumber++;
            var message = ToMessage(line, request.KeySeparator, headers);
            Send(producer, watch, request.Topic, target, message, tally);
        }

        await FlushAsync(producer, watch, signal.Token).ConfigureAwait(false);

        var (delivered, failed, firstError, byPartition) = tally.Snapshot();
        long unacknowledged = lineNumber - delivered - failed;
        if (watch.IsDown && (failed > 0 || unacknowledged > 0))
        {
            throw new CliException($"{watch.Unreachable().Message}{Environment.NewLine}" +
                                   $"{delivered} of {lineNumber} records were acknowledged before the connection was lost.");
        }

        if (failed > 0 || unacknowledged > 0)
        {
            var reason = firstError is { } e
                ? Output.IsUnknownTopic(e.Code) ? $"Topic '{request.Topic}' does not exist" : Output.Describe(e)
                : "not acknowledged before shutdown";
            throw new CliException($"{failed + unacknowledged} of {lineNumber} records were not delivered to topic '{request.Topic}': {reason}");
        }

        if (!request.Quiet)
        {
            var parts = byPartition.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}");
            Output.Info($"Produced {delivered} record{(delivered == 1 ? "" : "s")} to topic '{request.Topic}'" +
                        (delivered > 0 ? $" (partition {string.Join(", ", parts)})" : "") +
                        (interrupted ? "; input interrupted." : "."));
        }

        return ExitCodes.Ok;
    }

    private static StreamReader OpenFile(FileInfo file)
    {
        if (!file.Exists)
        {
            throw CliException.Usage($"--file: '{file.FullName}' does not exist");
        }

        return new StreamReader(file.FullName, Encoding.UTF8);
    }

    private static Message<byte[]?, byte[]> ToMessage(string line, string? separator, Headers headers)
    {
        byte[]? key = null;
        var value = line;
        if (separator is not null)
        {
            var at = line.IndexOf(separator, StringComparison.Ordinal);
            if (at >= 0)
            {
                key = Encoding.UTF8.GetBytes(line[..at]);
                value = line[(at + separator.Length)..];
            }
        }

        return new Message<byte[]?, byte[]>
        {
            Key = key,
            Value = Encoding.UTF8.GetBytes(value),
            Headers = headers.Count == 0 ? null : headers,
        };
    }

    /// <summary>Enqueues one record, waiting (and serving delivery reports) while librdkafka's local queue is full.</summary>
    private static void Send(IProducer<byte[]?, byte[]> producer, BrokerWatch watch, string topic, TopicPartition? target,
        Message<byte[]?, byte[]> message, DeliveryTally tally)
    {
        while (true)
        {
            if (watch.IsDown)
            {
                throw watch.Unreachable();
            }

            try
            {
                if (target is null)
                {
                    producer.Produce(topic, message, tally.OnDelivery);
                }
                else
                {
                    producer.Produce(target, message, tally.OnDelivery);
                }

                return;
            }
            catch (ProduceException<byte[]?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(100));
            }
        }
    }

    /// <summary>Waits until every record is acknowledged or failed (bounded by message.timeout.ms) or the cluster is gone.</summary>
    private static async Task FlushAsync(IProducer<byte[]?, byte[]> producer, BrokerWatch watch, CancellationToken interrupt)
    {
        await Task.Run(() =>
        {
            while (producer.Flush(TimeSpan.FromMilliseconds(200)) > 0)
            {
                if (watch.IsDown || (interrupt.IsCancellationRequested && producer.Flush(TimeSpan.FromSeconds(2)) > 0))
                {
                    return;
                }
            }
        }).ConfigureAwait(false);
    }

    /// <summary>"\t" and "\n" in separators typed on a command line mean tab and newline.</summary>
    internal static string Unescape(string text) =>
        text.Replace("\\t", "\t", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal);

    /// <summary>Delivery reports arrive on librdkafka's poll thread; counters are read once at the end.</summary>
    private sealed class DeliveryTally
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<int, long> _byPartition = [];
        private long _delivered;
        private long _failed;
        private Error? _firstError;

        public void OnDelivery(DeliveryReport<byte[]?, byte[]> report)
        {
            lock (_lock)
            {
                if (report.Error.IsError)
                {
                    _failed++;
                    _firstError ??= report.Error;
                }
                else
                {
                    _delivered++;
                    _byPartition[report.Partition.Value] = _byPartition.GetValueOrDefault(report.Partition.Value) + 1;
                }
            }
        }

        public (long Delivered, long Failed, Error? FirstError, Dictionary<int, long> ByPartition) Snapshot()
        {
            lock (_lock)
            {
                return (_delivered, _failed, _firstError, new Dictionary<int, long>(_byPartition));
            }
        }
    }
}

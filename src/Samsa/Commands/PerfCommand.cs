using System.CommandLine;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa perf produce | consume | end-to-end</c>: load generators in the spirit of kafka-producer-perf-test and
/// kafka-consumer-perf-test, driving a real Kafka client (Confluent.Kafka) so the numbers are what an application
/// sees. Progress goes to stderr once a second; the summary (text or --json) goes to stdout. MB means 2^20 bytes of
/// record values, as Kafka's tools count them. This is a measuring tool: no test asserts on its numbers.
/// </summary>
internal static class PerfCommand
{
    private static readonly string[] CompressionNames = ["none", "gzip", "snappy", "lz4", "zstd"];
    private static readonly string[] AcksNames = ["all", "-1", "1", "0"];

    public static Command Create()
    {
        var perf = new Command("perf", "Measure throughput and latency with a real Kafka client (produce, consume, end-to-end).");
        perf.Subcommands.Add(CreateVerb(PerfMode.Produce, "produce", "Write records as fast as allowed; report records/s, MB/s and send-to-ack latency."));
        perf.Subcommands.Add(CreateVerb(PerfMode.Consume, "consume", "Read a topic from the beginning; report records/s and MB/s."));
        perf.Subcommands.Add(CreateVerb(PerfMode.EndToEnd, "end-to-end",
            "Produce and consume in one process; report produce-timestamp-to-consume latency."));
        return perf;
    }

    private static Command CreateVerb(PerfMode mode, string name, string description)
    {
        var topic = new Option<string>("--topic", "-t")
        {
            Description = "Topic to use. produce/end-to-end create it (with --partitions) if it does not exist.",
            DefaultValueFactory = _ => "samsa-perf",
        };
        var records = new Option<long?>("--records", "-n")
        {
            Description = mode == PerfMode.Consume
                ? "Records to read (default: every record in the topic when the run starts)."
                : "Records to send (default 1000000, or unlimited with --duration).",
            HelpName = "N",
        };
        var duration = new Option<double?>("--duration", "-d")
        {
            Description = "Stop after this many seconds (with --records: whichever comes first).",
            HelpName = "seconds",
        };
        var recordSize = new Option<int>("--record-size", "-s")
        {
            Description = "Bytes per record value (end-to-end: at least 8; the send time travels in the value).",
            HelpName = "bytes",
            DefaultValueFactory = _ => 100,
        };
        var partitions = new Option<int>("--partitions", "-p")
        {
            Description = "Partitions of the topic when it has to be created.",
            DefaultValueFactory = _ => 1,
        };
        var acks = new Option<string>("--acks") { Description = "Producer acks: all, 1 or 0.", DefaultValueFactory = _ => "all" };
        acks.AcceptOnlyFromAmong(AcksNames);
        var compression = new Option<string>("--compression", "-z") { Description = "Batch compression codec.", DefaultValueFactory = _ => "none" };
        compression.AcceptOnlyFromAmong(CompressionNames);
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Producer batch.size in bytes (librdkafka's maximum bytes per partition batch).",
            HelpName = "bytes",
            DefaultValueFactory = _ => 1_000_000,
        };
        var lingerMs = new Option<double>("--linger-ms") { Description = "Producer linger.ms.", DefaultValueFactory = _ => 5 };
        var throughput = new Option<double>("--throughput")
        {
            Description = "Target records/s for the producer; -1 for as fast as possible.",
            HelpName = "records/s",
            DefaultValueFactory = _ => -1,
        };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON (for scripts)." };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress lines on stderr." };

        var client = new ClientOptions();
        var command = new Command(name, description) { topic, records, duration, recordSize, json, quiet };
        if (mode != PerfMode.Consume)
        {
            command.Options.Add(partitions);
            command.Options.Add(acks);
            command.Options.Add(compression);
            command.Options.Add(batchSize);
            command.Options.Add(lingerMs);
            command.Options.Add(throughput);
        }

        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(() =>
        {
            var settings = client.Bind(parseResult);
            var options = new PerfOptions(
                mode,
                parseResult.GetValue(topic)!,
                parseResult.GetValue(records),
                parseResult.GetValue(duration) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                parseResult.GetValue(recordSize),
                parseResult.GetValue(partitions),
                parseResult.GetValue(acks) ?? "all",
                parseResult.GetValue(compression) ?? "none",
                parseResult.GetValue(batchSize),
                parseResult.GetValue(lingerMs),
                parseResult.GetValue(throughput),
                parseResult.GetValue(json),
                parseResult.GetValue(quiet));
            options.Validate();
            return PerfRunner.RunAsync(settings, options, ct);
        }));
        return command;
    }
}

internal enum PerfMode
{
    Produce,
    Consume,
    EndToEnd,
}

internal sealed record PerfOptions(PerfMode Mode, string Topic, long? Records, TimeSpan? Duration, int RecordSize, int Partitions,
    string Acks, string Compression, int BatchSize, double LingerMs, double Throughput, bool Json, bool Quiet)
{
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Topic))
        {
            throw CliException.Usage("--topic must not be empty");
        }

        if (Records is <= 0)
        {
            throw CliException.Usage("--records must be positive");
        }

        if (Duration is { } d && d <= TimeSpan.Zero)
        {
            throw CliException.Usage("--duration must be positive");
        }

        if (RecordSize < (Mode == PerfMode.EndToEnd ? 8 : 0))
        {
            throw CliException.Usage(Mode == PerfMode.EndToEnd ? "--record-size must be at least 8 for end-to-end" : "--record-size must not be negative");
        }

        if (Mode != PerfMode.Consume && Partitions <= 0)
        {
            throw CliException.Usage("--partitions must be positive");
        }

        if (Mode != PerfMode.Consume && (BatchSize <= 0 || LingerMs < 0))
        {
            throw CliException.Usage("--batch-size must be positive and --linger-ms not negative");
        }

        if (Mode != PerfMode.Consume && (Throughput == 0 || (Throughput < 0 && Throughput != -1)))
        {
            throw CliException.Usage("--throughput must be positive, or -1 for unlimited");
        }
    }

    /// <summary>Records the producer sends: --records, else unlimited under --duration, else one million.</summary>
    public long ProduceCount => Records ?? (Duration is null ? 1_000_000 : long.MaxValue);
}

using System.Buffers.Binary;
using System.Diagnostics;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// The load loops behind <see cref="PerfCommand"/>. Latencies are measured with <see cref="Stopwatch"/> ticks: produce
/// from the Produce call to the delivery report (send→ack, including time queued in librdkafka); end-to-end from the
/// moment the record is handed to the producer (ticks written into the first 8 bytes of the value) to the moment the
/// consumer in the same process returns it. Delivery reports run on librdkafka's single poll thread.
/// </summary>
internal static class PerfRunner
{
    public static async Task<int> RunAsync(ClientSettings settings, PerfOptions options, CancellationToken ct)
    {
        await settings.EnsureReachableAsync(ct).ConfigureAwait(false);
        using var signal = new ShutdownSignal();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, signal.Token);
        using var watch = new BrokerWatch(settings);
        var result = options.Mode switch
        {
            PerfMode.Produce => await Task.Run(() => Produce(settings, options, watch, null, stop.Token), CancellationToken.None).ConfigureAwait(false),
            PerfMode.Consume => await Task.Run(() => Consume(settings, options, watch, stop.Token), CancellationToken.None).ConfigureAwait(false),
            _ => await Task.Run(() => EndToEnd(settings, options, watch, stop.Token), CancellationToken.None).ConfigureAwait(false),
        };
        PerfReport.Write(options, result);
        return result.Complete ? ExitCodes.Ok : ExitCodes.Error;
    }

    private static PerfResult Produce(ClientSettings settings, PerfOptions options, BrokerWatch watch, Action? started, CancellationToken ct)
    {
        var config = settings.Apply(new ProducerConfig
        {
            Acks = options.Acks switch
            {
                "0" => Acks.None,
                "1" => Acks.Leader,
                _ => Acks.All,
            },
            CompressionType = Enum.Parse<CompressionType>(options.Compression, ignoreCase: true),
            BatchSize = options.BatchSize,
            LingerMs = options.LingerMs,
            QueueBufferingMaxMessages = 1_000_000,
            QueueBufferingMaxKbytes = 1_048_576,
            MessageTimeoutMs = 120_000,
            DeliveryReportFields = "status",
        });
        using var producer = new ProducerBuilder<Null, byte[]>(config)
            .SetErrorHandler((_, e) => watch.OnError(e))
            .SetLogHandler((_, m) => watch.OnLog(m))
            .Build();
        using (var admin = new DependentAdminClientBuilder(producer.Handle).Build())
        {
            EnsureTopic(admin, watch, settings, options, ct);
        }

        var payload = Payload(options.RecordSize);
        var message = new Message<Null, byte[]> { Value = payload };
        var latency = new LatencyHistogram();
        var progress = new PerfProgress("produce", options, latency);
        long acked = 0;
        long failed = 0;
        Error? firstError = null;
        long total = options.ProduceCount;
        bool timestamped = options.Mode == PerfMode.EndToEnd;

        started?.Invoke();
        long start = Stopwatch.GetTimestamp();
        long lastAck = start;
        long deadline = options.Duration is { } d ? start + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        progress.Start(start);
        long sent = 0;
        for (; sent < total && !ct.IsCancellationRequested && !watch.IsDown; sent++)
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= deadline)
            {
                break;
            }

            if (options.Throughput > 0)
            {
                // Pace like Kafka's ThroughputThrottler: sleep while ahead of schedule (bursts of ~1 ms).
                long due = start + (long)(sent / options.Throughput * Stopwatch.Frequency);
                if (due - now > Stopwatch.Frequency / 1000)
                {
                    Thread.Sleep(TimeSpan.FromTicks((due - now) * TimeSpan.TicksPerSecond / Stopwatch.Frequency));
                    now = Stopwatch.GetTimestamp();
                }
            }

            if (timestamped)
            {
                // librdkafka copies the value inside Produce, so one buffer is reused for every record.
                BinaryPrimitives.WriteInt64LittleEndian(payload, now);
            }

            long sentAt = now;
            void OnDelivery(DeliveryReport<Null, byte[]> report)
            {
                long at = Stopwatch.GetTimestamp();
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                    firstError ??= report.Error;
                    return;
                }

                lastAck = at;
                Interlocked.Increment(ref acked);
                long micros = (at - sentAt) * 1_000_000 / Stopwatch.Frequency;
                latency.Record(micros);
                progress.Add(options.RecordSize, micros);
            }

            while (true)
            {
                try
                {
                    producer.Produce(options.Topic, message, OnDelivery);
                    break;
                }
                catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    Thread.Sleep(1);
                }
            }
        }

        while (producer.Flush(TimeSpan.FromMilliseconds(200)) > 0)
        {
            if (watch.IsDown || ct.IsCancellationRequested)
            {
                producer.Flush(TimeSpan.FromSeconds(2));
                break;
            }
        }

        progress.Stop();
        if (watch.IsDown && Interlocked.Read(ref acked) == 0)
        {
            throw watch.Unreachable();
        }

        if (firstError is { } error && Interlocked.Read(ref acked) == 0)
        {
            throw new CliException($"No record was acknowledged: {Output.Describe(error)}");
        }

        long done = Interlocked.Read(ref acked);
        var seconds = Stopwatch.GetElapsedTime(start, Volatile.Read(ref lastAck)).TotalSeconds;
        return new PerfResult("produce", done, done * (long)options.RecordSize, seconds, latency.Summarize(),
            Complete: done == sent && Interlocked.Read(ref failed) == 0, Failed: Interlocked.Read(ref failed) + (sent - done));
    }

    private static PerfResult Consume(ClientSettings settings, PerfOptions options, BrokerWatch watch, CancellationToken ct)
    {
        using var consumer = BuildConsumer(settings, watch);
        List<TopicPartition> partitions;
        using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
        {
            var topic = AdminSession.GetTopicAsync(admin, watch, settings, options.Topic, ct).GetAwaiter().GetResult();
            partitions = topic.Partitions.Select(p => new TopicPartition(options.Topic, p.PartitionId)).ToList();
        }

        long available = 0;
        foreach (var tp in partitions)
        {
            var marks = consumer.QueryWatermarkOffsets(tp, settings.Timeout);
            available += marks.High.Value - marks.Low.Value;
        }

        long wanted = options.Records ?? available;
        var progress = new PerfProgress("consume", options, null);
        consumer.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)));
        long start = Stopwatch.GetTimestamp();
        long deadline = options.Duration is { } d ? start + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        progress.Start(start);
        long received = 0;
        long bytes = 0;
        long last = start;
        long idleSince = start;
        long idleLimit = (long)(settings.Timeout.TotalSeconds * Stopwatch.Frequency);
        while (received < wanted && !ct.IsCancellationRequested && !watch.IsDown)
        {
            var result = consumer.Consume(100);
            long now = Stopwatch.GetTimestamp();
            if (result?.Message is null)
            {
                if (now >= deadline || now - idleSince > idleLimit)
                {
                    break;
                }

                continue;
            }

            int size = result.Message.Value?.Length ?? 0;
            received++;
            bytes += size;
            last = idleSince = now;
            progress.Add(size, -1);
            if (now >= deadline)
            {
                break;
            }
        }

        progress.Stop();
        consumer.Close();
        if (watch.IsDown && received == 0)
        {
            throw watch.Unreachable();
        }

        var seconds = Stopwatch.GetElapsedTime(start, last).TotalSeconds;
        bool complete = received >= wanted || (options.Duration is not null && Stopwatch.GetTimestamp() >= deadline);
        return new PerfResult("consume", received, bytes, seconds, null, complete, Failed: Math.Max(0, wanted - received));
    }

    private static PerfResult EndToEnd(ClientSettings settings, PerfOptions options, BrokerWatch watch, CancellationToken ct)
    {
        using var consumer = BuildConsumer(settings, watch);
        var e2e = new LatencyHistogram();
        using var consumerReady = new ManualResetEventSlim();
        using var producerDone = new CancellationTokenSource();
        long produced = long.MaxValue;
        long received = 0;
        long lastReceived = 0;
        Exception? consumerFailure = null;

        // The consumer starts at the current end of every partition, so it sees exactly what this run produces.
        var consumerThread = new Thread(() =>
        {
            try
            {
                consumerReady.Wait(ct);
                long idleSince = Stopwatch.GetTimestamp();
                long idleLimit = (long)(settings.Timeout.TotalSeconds * Stopwatch.Frequency);
                while (!ct.IsCancellationRequested && Interlocked.Read(ref received) < Interlocked.Read(ref produced))
                {
                    var result = consumer.Consume(100);
                    long now = Stopwatch.GetTimestamp();
                    if (result?.Message?.Value is not { Length: >= 8 } value)
                    {
                        if (producerDone.IsCancellationRequested && now - idleSince > idleLimit)
                        {
                            break;
                        }

                        continue;
                    }

                    idleSince = now;
                    long sentAt = BinaryPrimitives.ReadInt64LittleEndian(value);
                    e2e.Record((now - sentAt) * 1_000_000 / Stopwatch.Frequency);
                    lastReceived = now;
                    Interlocked.Increment(ref received);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or KafkaException)
            {
                consumerFailure = e;
            }
        })
        { IsBackground = true, Name = "perf-consumer" };
        consumerThread.Start();

        long startedAt = 0;
        var produceResult = Produce(settings, options, watch, () =>
        {
            var partitions = WaitForPartitions(consumer, settings, options, ct);
            consumer.Assign(partitions.Select(tp => new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, settings.Timeout).High)));
            consumerReady.Set();
            startedAt = Stopwatch.GetTimestamp();
        }, ct);
        Interlocked.Exchange(ref produced, produceResult.Records);
        producerDone.Cancel();
        consumerThread.Join();
        consumer.Close();
        if (consumerFailure is KafkaException ke)
        {
            throw ke;
        }

        long got = Interlocked.Read(ref received);
        var seconds = got == 0 ? 0 : Stopwatch.GetElapsedTime(startedAt, lastReceived).TotalSeconds;
        return new PerfResult("end-to-end", got, got * (long)options.RecordSize, seconds, e2e.Summarize(),
            Complete: produceResult.Complete && got == produceResult.Records, Failed: produceResult.Records - got, Produce: produceResult);
    }

    private static IConsumer<Ignore, byte[]> BuildConsumer(ClientSettings settings, BrokerWatch watch)
    {
        var config = settings.Apply(new ConsumerConfig
        {
            GroupId = "samsa-perf-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchWaitMaxMs = 100,
            QueuedMinMessages = 100_000,
            ConsumeResultFields = "none",
        });
        return new ConsumerBuilder<Ignore, byte[]>(config)
            .SetErrorHandler((_, e) => watch.OnError(e))
            .SetLogHandler((_, m) => watch.OnLog(m))
            .Build();
    }

    private static List<TopicPartition> WaitForPartitions(IConsumer<Ignore, byte[]> consumer, ClientSettings settings, PerfOptions options, CancellationToken ct)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var metadata = admin.GetMetadata(options.Topic, settings.Timeout);
            var topic = metadata.Topics.FirstOrDefault(t => t.Topic == options.Topic);
            if (topic is { Error.IsError: false, Partitions.Count: > 0 } && topic.Partitions.All(p => p.Leader >= 0))
            {
                return topic.Partitions.Select(p => new TopicPartition(options.Topic, p.PartitionId)).ToList();
            }

            if (deadline.Elapsed > settings.Timeout || ct.IsCancellationRequested)
            {
                throw new CliException($"Topic '{options.Topic}' has no leader for every partition after {settings.Timeout.TotalSeconds:0} s");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>Creates the topic with --partitions (replication factor 1 on one node, the cluster default otherwise).</summary>
    private static void EnsureTopic(IAdminClient admin, BrokerWatch watch, ClientSettings settings, PerfOptions options, CancellationToken ct)
    {
        var metadata = watch.RunAsync(() => admin.GetMetadata(options.Topic, settings.Timeout), ct).GetAwaiter().GetResult();
        var found = metadata.Topics.FirstOrDefault(t => t.Topic == options.Topic);
        if (found is { Error.IsError: false, Partitions.Count: > 0 })
        {
            return;
        }

        try
        {
            watch.WaitAsync(admin.CreateTopicsAsync(
                [new TopicSpecification { Name = options.Topic, NumPartitions = options.Partitions, ReplicationFactor = -1 }],
                new CreateTopicsOptions { RequestTimeout = settings.Timeout }), ct).GetAwaiter().GetResult();
            if (!options.Quiet)
            {
                Output.Info($"Created topic '{options.Topic}' with {options.Partitions} partition(s).");
            }
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code is ErrorCode.TopicAlreadyExists or ErrorCode.NoError))
        {
        }
    }

    /// <summary>Random upper-case letters, as kafka-producer-perf-test sends (so compression ratios are comparable).</summary>
    private static byte[] Payload(int size)
    {
        var random = new Random(42);
        var payload = new byte[size];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)('A' + random.Next(26));
        }

        return payload;
    }
}

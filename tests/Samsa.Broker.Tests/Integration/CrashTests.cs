using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Principle 3 end to end: the real <c>samsa server</c> process is SIGKILLed while an idempotent producer writes with
/// acks=all; after a restart on the same data directory every acknowledged record is at its acknowledged offset.
/// </summary>
public sealed class CrashTests
{
    private const string Topic = "crash";
    private const int Partitions = 3;
    private const int AcksBeforeKill = 2000;

    [Fact]
    public async Task Every_acknowledged_record_survives_a_sigkill_mid_stream()
    {
        var ct = TestContext.Current.CancellationToken;
        string dataDir = Path.Combine(Path.GetTempPath(), "samsa-crash-" + Guid.NewGuid().ToString("N")[..12]);
        int port = FreePort();
        string bootstrap = $"127.0.0.1:{port}";
        try
        {
            using var first = await SamsaProcess.StartAsync(port, dataDir, ct);
            await CreateTopicAsync(bootstrap, ct);

            // Produce until well past AcksBeforeKill, killing the node while requests are in flight.
            var acked = new ConcurrentDictionary<(int Partition, long Offset), string>();
            int ackedAtKill;
            int duplicateAcks = 0;
            using (var stop = new CancellationTokenSource())
            {
                var config = new ProducerConfig
                {
                    BootstrapServers = bootstrap, Acks = Acks.All, EnableIdempotence = true, LingerMs = 2,
                    MessageTimeoutMs = 10_000, BatchNumMessages = 50,
                };
                // The dead node makes librdkafka log a connection error every few ms: not interesting here.
                using var producer = new ProducerBuilder<Null, string>(config).SetLogHandler((_, _) => { }).Build();
                var produceLoop = Task.Run(() =>
                {
                    for (long i = 0; !stop.IsCancellationRequested; i++)
                    {
                        string value = "v-" + i;
                        var tp = new TopicPartition(Topic, (int)(i % Partitions));
                        try
                        {
                            producer.Produce(tp, new Message<Null, string> { Value = value }, report =>
                            {
                                if (report.Error.Code == ErrorCode.NoError && report.Status == PersistenceStatus.Persisted)
                                    if (!acked.TryAdd((report.Partition.Value, report.Offset.Value), report.Message.Value))
                                        Interlocked.Increment(ref duplicateAcks); // asserted below, not on librdkafka's thread
                            });
                        }
                        catch (ProduceException<Null, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                        {
                            i--;
                            producer.Poll(TimeSpan.FromMilliseconds(10));
                        }
                        if (i % 100 == 0) Thread.Sleep(1); // keep the stream going without flooding the queue
                    }
                }, CancellationToken.None);

                await WaitUntilAsync(() => acked.Count >= AcksBeforeKill || produceLoop.IsCompleted, TimeSpan.FromSeconds(90), "acks before the kill", ct);
                Assert.False(produceLoop.IsFaulted, produceLoop.Exception?.ToString());
                first.Kill();
                ackedAtKill = acked.Count;
                stop.Cancel();
                await produceLoop;
                // Acks already received are reported within milliseconds; the rest of the queue can only time out.
                producer.Flush(TimeSpan.FromSeconds(2));
            }
            int ackedTotal = acked.Count;
            TestContext.Current.TestOutputHelper?.WriteLine($"acked at kill: {ackedAtKill}, acked in total: {ackedTotal}");
            Assert.True(ackedTotal >= AcksBeforeKill);
            Assert.Equal(0, duplicateAcks); // no two acks for one offset

            using var second = await SamsaProcess.StartAsync(port, dataDir, ct);
            try
            {
                await WaitUntilAsync(() => second.Output.Any(l => l.Contains("clean shutdown False", StringComparison.Ordinal)),
                    TimeSpan.FromSeconds(30), "the unclean-shutdown recovery log line", ct);

                // Read everything up to the high watermarks and check every ack against it.
                var high = new long[Partitions];
                using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "wm" }).Build())
                    for (int p = 0; p < Partitions; p++)
                        high[p] = consumer.QueryWatermarkOffsets(new TopicPartition(Topic, p), TimeSpan.FromSeconds(30)).High.Value;
                var records = RoundTripTests.ConsumeAll(bootstrap, Topic, (int)high.Sum());
                var log = records.ToDictionary(r => (r.Partition.Value, r.Offset.Value), r => r.Message.Value);
                TestContext.Current.TestOutputHelper?.WriteLine($"recovered high watermarks: {string.Join(", ", high)} ({high.Sum()} records, {log.Count} read)");
                Assert.Equal(high.Sum(), log.Count);
                foreach (var ((partition, offset), value) in acked)
                {
                    Assert.True(offset < high[partition], $"acked {Topic}-{partition}@{offset} is beyond the recovered high watermark {high[partition]}");
                    Assert.Equal(value, log[(partition, offset)]);
                }
                // Idempotence: no value is in the log twice.
                Assert.Equal(log.Count, log.Values.Distinct().Count());

                // The node takes writes again after recovery, right after the recovered end.
                var more = await RestartTests.ProduceAsync(bootstrap, Topic, [("k", "after-crash")], partition: 0);
                Assert.Equal(high[0], Assert.Single(more.Keys).Offset);
            }
            finally
            {
                second.Kill();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task Idempotent_producer_state_is_rebuilt_from_the_log_after_a_sigkill()
    {
        var ct = TestContext.Current.CancellationToken;
        string dataDir = Path.Combine(Path.GetTempPath(), "samsa-crash-" + Guid.NewGuid().ToString("N")[..12]);
        int port = FreePort();
        try
        {
            using var first = await SamsaProcess.StartAsync(port, dataDir, ct);
            await CreateTopicAsync($"127.0.0.1:{port}", ct);
            long producerId;
            var batches = new List<byte[]>();
            using (var client = await DurabilityWireClient.ConnectAsync(port, ct))
            {
                var init = await client.SendAsync<Samsa.Protocol.Messages.InitProducerIdResponse>(Samsa.Protocol.ApiKey.InitProducerId, 4,
                    new Samsa.Protocol.Messages.InitProducerIdRequest { TransactionalId = null, TransactionTimeoutMs = 60_000 }, ct);
                Assert.Equal(0, init.ErrorCode);
                producerId = init.ProducerId;
                for (int i = 0; i < 8; i++)
                {
                    batches.Add(DurabilityWireClient.Batch(producerId, 0, baseSequence: i * 3, count: 3, $"b{i}-"));
                    Assert.Equal((Samsa.Protocol.ErrorCode.None, i * 3L), await client.ProduceAsync(Topic, 0, batches[^1], ct));
                }
            }
            first.Kill(); // no producer snapshot is written: state must come from replaying the log

            using var second = await SamsaProcess.StartAsync(port, dataDir, ct);
            try
            {
                using var client = await DurabilityWireClient.ConnectAsync(port, ct);
                // The last five batches are remembered, with their offsets.
                for (int i = 3; i < 8; i++)
                    Assert.Equal((Samsa.Protocol.ErrorCode.None, i * 3L), await client.ProduceAsync(Topic, 0, batches[i], ct));
                Assert.Equal(24, await client.ListOffsetAsync(Topic, 0, -1, ct));
                var gap = DurabilityWireClient.Batch(producerId, 0, baseSequence: 25, count: 1, "gap");
                Assert.Equal(Samsa.Protocol.ErrorCode.OutOfOrderSequenceNumber, (await client.ProduceAsync(Topic, 0, gap, ct)).Error);
                var next = DurabilityWireClient.Batch(producerId, 0, baseSequence: 24, count: 1, "next");
                Assert.Equal((Samsa.Protocol.ErrorCode.None, 24L), await client.ProduceAsync(Topic, 0, next, ct));
                Assert.Equal(25, await client.ListOffsetAsync(Topic, 0, -1, ct));
                Assert.Contains(second.Output, l => l.Contains("Rebuilt producer state", StringComparison.Ordinal));
            }
            finally
            {
                second.Kill();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task CreateTopicAsync(string bootstrap, CancellationToken ct)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).Build();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await admin.CreateTopicsAsync([new TopicSpecification { Name = Topic, NumPartitions = Partitions, ReplicationFactor = 1 }]);
                return;
            }
            catch (CreateTopicsException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, ct); // the node may not have registered itself yet
            }
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out after {timeout.TotalSeconds} s waiting for {what}.");
            await Task.Delay(20, ct);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>`dotnet samsa.dll server` as a child process, its output captured line by line.</summary>
    private sealed class SamsaProcess : IDisposable
    {
        private readonly Process _process;
        private bool _killed;

        private SamsaProcess(Process process) => _process = process;

        public ConcurrentQueue<string> Output { get; } = new();

        public static async Task<SamsaProcess> StartAsync(int port, string dataDir, CancellationToken ct)
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "samsa.dll");
            Assert.True(File.Exists(dll), $"{dll} not found (the test project references src/Samsa)");
            var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[]
                     {
                         dll, "server", "-o", $"listeners=PLAINTEXT://127.0.0.1:{port}", "-o", $"log.dirs={dataDir}",
                         "-o", "http.listener=http://127.0.0.1:0",
                     })
                info.ArgumentList.Add(arg);
            var process = new Process { StartInfo = info };
            var result = new SamsaProcess(process);
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) result.Output.Enqueue(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) result.Output.Enqueue("stderr: " + e.Data); };
            Assert.True(process.Start());
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (true)
                {
                    if (process.HasExited)
                        Assert.Fail($"samsa server exited with {process.ExitCode}:\n{string.Join("\n", result.Output)}");
                    try
                    {
                        using var probe = new TcpClient();
                        await probe.ConnectAsync(IPAddress.Loopback, port, ct);
                        return result;
                    }
                    catch (SocketException) when (DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(100, ct);
                    }
                }
            }
            catch
            {
                result.Kill();
                throw;
            }
        }

        /// <summary>SIGKILL: no flush, no clean-shutdown marker, no producer snapshot.</summary>
        public void Kill()
        {
            if (_killed) return;
            _killed = true;
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(30_000);
            _process.Dispose();
        }

        public void Dispose() => Kill();
    }
}

using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// One bad client never affects another: 1,000 failed logins in a burst (25 at a time) while an authenticated producer
/// keeps writing. Its delivered-record rate during the burst stays at least half of the rate just before it (the
/// machine is shared with the burst's own client and other tests, so the bound is generous), every failed login gets
/// SASL_AUTHENTICATION_FAILED and a closed connection, and the node stays healthy afterwards.
/// </summary>
[Collection(nameof(SerialThroughputTests))]
public sealed class FailedLoginBurstTests
{
    [Fact]
    public async Task A_thousand_failed_logins_leave_an_honest_producer_and_the_node_unaffected()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));
        var producerConfig = Secure.SaslPlaintext(new ProducerConfig { Acks = Acks.Leader, LingerMs = 2 }, broker, SaslMechanism.Plain, "bob", "bob-secret");
        using var producer = new ProducerBuilder<Null, string>(producerConfig).Build();
        await producer.ProduceAsync("honest", new Message<Null, string> { Value = "warm-up" });

        long delivered = 0;
        using var stop = new CancellationTokenSource();
        var honest = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = new Task[50];
                for (int i = 0; i < batch.Length; i++) batch[i] = producer.ProduceAsync("honest", new Message<Null, string> { Value = "steady" });
                await Task.WhenAll(batch);
                Interlocked.Add(ref delivered, batch.Length);
            }
        });

        // Baseline rate over 2 s of honest traffic.
        var clock = Stopwatch.StartNew();
        long startCount = Interlocked.Read(ref delivered);
        while (clock.Elapsed < TimeSpan.FromSeconds(2)) await Task.Delay(50);
        double baseline = (Interlocked.Read(ref delivered) - startCount) / clock.Elapsed.TotalSeconds;

        // The burst: 1,000 wrong-password logins, 25 concurrent connections at a time (each failure is answered after
        // connection.failed.authentication.delay.ms, Kafka's 100 ms default, which is what bounds the burst's cost).
        int failedAsExpected = 0;
        long burstStartCount = Interlocked.Read(ref delivered);
        var burstClock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 25 }, async (i, _) =>
        {
            await using var client = await RawKafkaClient.ConnectAsync(Secure.Endpoint(broker, 1));
            var handshake = await client.RequestAsync<SaslHandshakeResponse>(ApiKey.SaslHandshake, 1, new SaslHandshakeRequest { Mechanism = "PLAIN" });
            var login = await client.RequestAsync<SaslAuthenticateResponse>(ApiKey.SaslAuthenticate, 2,
                new SaslAuthenticateRequest { AuthBytes = Encoding.UTF8.GetBytes($"\0bob\0guess-{i}") });
            if (handshake.ErrorCode == 0 && login.ErrorCode == (short)Samsa.Protocol.ErrorCode.SaslAuthenticationFailed && await client.IsClosedAsync(TimeSpan.FromSeconds(5)))
                Interlocked.Increment(ref failedAsExpected);
        });
        // Measure over at least one second so a very quick burst is not judged on a handful of batches.
        while (burstClock.Elapsed < TimeSpan.FromSeconds(1)) await Task.Delay(20);
        double duringBurst = (Interlocked.Read(ref delivered) - burstStartCount) / burstClock.Elapsed.TotalSeconds;

        stop.Cancel();
        await honest;

        Assert.Equal(1000, failedAsExpected);
        // 40 rounds of 25 logins, each answered no sooner than 100 ms: the delay, not the broker's CPU, paces the burst.
        Assert.True(burstClock.Elapsed >= TimeSpan.FromSeconds(3.5), $"burst took only {burstClock.Elapsed}");
        Assert.True(duringBurst >= 0.5 * baseline,
            $"honest producer: {duringBurst:F0} rec/s during the burst ({burstClock.Elapsed.TotalSeconds:F1} s) vs {baseline:F0} rec/s before");
        // Healthy afterwards: failed connections are gone, /health answers, a new client authenticates and produces.
        Assert.True(await BadInputHelpers.WaitUntilAsync(() => broker.Host.Metrics.OpenConnections <= 10, TimeSpan.FromSeconds(10)),
            $"{broker.Host.Metrics.OpenConnections} connections still open");
        using var http = new HttpClient();
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri(broker.Host.HttpEndpoint!, "health")));
        using var fresh = new ProducerBuilder<Null, string>(producerConfig).Build();
        Assert.Equal(PersistenceStatus.Persisted, (await fresh.ProduceAsync("honest", new Message<Null, string> { Value = "after" })).Status);
        TestContext.Current.SendDiagnosticMessage($"baseline {baseline:F0} rec/s, during burst {duringBurst:F0} rec/s over {burstClock.Elapsed.TotalSeconds:F2} s");
    }
}

/// <summary>Tests that compare throughput run alone (after the parallel ones), so other tests' load is not measured.</summary>
[CollectionDefinition(nameof(SerialThroughputTests), DisableParallelization = true)]
public sealed class SerialThroughputTests;

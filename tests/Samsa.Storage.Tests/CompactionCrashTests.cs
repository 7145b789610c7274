using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>Crash at each step of the swap protocol, consistent reads during cleaning, producer state after cleaning.</summary>
public sealed class CompactionCrashTests(ITestOutputHelper output) : LogTestBase
{
    private sealed class SimulatedCrashException(CleanerStep step) : Exception($"simulated crash after {step}");

    private static Dictionary<string, string?> Latest(IEnumerable<(long Offset, string Key, string? Value)> records)
    {
        var latest = new Dictionary<string, string?>();
        foreach (var r in records) latest[r.Key] = r.Value;
        return latest;
    }

    [Theory]
    [InlineData(CleanerStep.CleanedWritten)]
    [InlineData(CleanerStep.SwapRenamed)]
    [InlineData(CleanerStep.OldRenamedToDeleted)]
    [InlineData(CleanerStep.SwapRenamedToFinal)]
    public void KillAtEachSwapStep_RecoversWithoutLosingLatestValues(CleanerStep step)
    {
        var config = Compaction.Config(segmentBytes: 8 * 1024);
        var log = Open(config);
        for (int i = 0; i < 400; i++)
            Append(log, Compaction.Batch(Enumerable.Range(0, 5).Select(j => ((i * 5 + j) % 97, (string?)$"v{i}-{j}"))));
        Append(log, Compaction.Batch([(3, null), (5, null)]));
        log.Roll();
        log.HighWatermark = log.LogEndOffset;
        var before = Compaction.ReadAll(log);
        var expected = Latest(before);
        long end = log.LogEndOffset;

        var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(), Time)
        {
            Fault = s => { if (s == step) throw new SimulatedCrashException(s); },
        };
        Assert.Throws<SimulatedCrashException>(() => cleaner.CleanOnce());
        var files = Directory.EnumerateFiles(PartitionDir).Select(Path.GetFileName).Where(f => !f!.EndsWith(".log", StringComparison.Ordinal)
            && !f.EndsWith("index", StringComparison.Ordinal) && !f.EndsWith(".snapshot", StringComparison.Ordinal)).ToList();
        output.WriteLine($"left after crash at {step}: {string.Join(", ", files)}");
        // Abandoned without Close, as after kill -9; reopen the directory.
        var reopened = Open(config);
        try
        {
            Assert.DoesNotContain(Directory.EnumerateFiles(PartitionDir), f =>
                f.EndsWith(".cleaned", StringComparison.Ordinal) || f.EndsWith(".swap", StringComparison.Ordinal) || f.EndsWith(".deleted", StringComparison.Ordinal));
            Assert.Equal(end, reopened.LogEndOffset);
            reopened.HighWatermark = reopened.LogEndOffset;
            var after = Compaction.ReadAll(reopened);
            Assert.Equal(expected, Latest(after));
            // No duplicates: every offset once, and no record that was not in the log before.
            Assert.Equal(after.Count, after.Select(r => r.Offset).Distinct().Count());
            Assert.Subset(before.ToHashSet(), after.ToHashSet());

            using var cleaner2 = new LogCleaner(() => [reopened], Compaction.CleanerConfig(), Time);
            cleaner2.CleanUntilIdle();
            var cleaned = Compaction.ReadAll(reopened);
            Assert.Equal(expected, Latest(cleaned));
            Assert.Equal(expected.Count, cleaned.Count);
        }
        finally
        {
            reopened.Close();
        }
    }

    [Fact]
    public async Task ReadersDuringCleaning_SeeEveryLatestValue_InOffsetOrder()
    {
        var config = Compaction.Config(segmentBytes: 16 * 1024, minDirtyRatio: 0.01) with { FileDeleteDelayMs = 60_000 };
        using var log = Open(config);
        const int Keys = 200;
        var history = new List<(long Offset, int Key, string Value)>();
        var historyLock = new Lock();
        using var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(), Time);
        using var stop = new CancellationTokenSource();
        int passes = 0, reads = 0, settledReads = 0;
        bool appendsDone = false;

        var cleaning = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
                if (cleaner.CleanOnce() is not null) passes++;
        });
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                bool settled = Volatile.Read(ref appendsDone);
                long hw = log.HighWatermark;
                Dictionary<long, (string Key, string Value)> written;
                Dictionary<string, string> expected;
                lock (historyLock)
                {
                    written = history.Where(h => h.Offset < hw).ToDictionary(h => h.Offset, h => ("key-" + h.Key, h.Value));
                    expected = history.Where(h => h.Offset < hw).GroupBy(h => h.Key)
                        .ToDictionary(g => "key-" + g.Key, g => g.Last().Value);
                }
                var seen = Compaction.ReadAll(log, hw); // asserts offsets strictly increase
                // Every record read is exactly the one written at its offset (offsets preserved, nothing invented).
                foreach (var r in seen) Assert.Equal(written[r.Offset], (r.Key, r.Value!));
                if (settled)
                {
                    // Once writes stop, a reader during cleaning sees every key's latest value. (While writes go on,
                    // a value superseded above this reader's high watermark snapshot may already be cleaned away, as in
                    // Kafka; the latest value itself is never lost.)
                    var latest = new Dictionary<string, string?>();
                    foreach (var r in seen) latest[r.Key] = r.Value;
                    foreach (var (key, value) in expected)
                    {
                        Assert.True(latest.TryGetValue(key, out var v), $"{key} missing below {hw}");
                        Assert.Equal(value, v);
                    }
                    settledReads++;
                }
                reads++;
            }
        });

        for (int i = 0; i < 600; i++)
        {
            var batch = Enumerable.Range(0, 20).Select(j => ((i * 20 + j) * 7 % Keys, $"v{i}-{j}")).ToList();
            var result = Append(log, Compaction.Batch(batch.Select(b => (b.Item1, (string?)b.Item2))));
            lock (historyLock)
                for (int j = 0; j < batch.Count; j++) history.Add((result.BaseOffset + j, batch[j].Item1, batch[j].Item2));
            log.HighWatermark = log.LogEndOffset;
            if (i % 50 == 49) await Task.Delay(5, TestContext.Current.CancellationToken);
        }
        log.Roll();
        log.HighWatermark = log.LogEndOffset;
        Volatile.Write(ref appendsDone, true);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((passes < 3 || settledReads < 5 || reads < 20) && DateTime.UtcNow < deadline && !cleaning.IsCompleted && !reader.IsCompleted)
            await Task.Delay(10, TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await Task.WhenAll(cleaning, reader);
        output.WriteLine($"{passes} cleaning passes, {reads} full reads ({settledReads} after writes stopped)");
        Assert.True(settledReads > 0, "no read after writes stopped");
        Assert.True(passes >= 2, $"{passes} passes");
        cleaner.CleanUntilIdle();
        Assert.Equal(Keys, Compaction.ReadAll(log).Count);
    }

    [Fact]
    public void IdempotentProducer_KeepsDeduplicating_AfterItsBatchesWereCompacted()
    {
        var config = Compaction.Config(segmentBytes: 4 * 1024);
        var log = Open(config);
        const long Pid = 4242;
        int seq = 0;
        byte[] last = [];
        AppendResult lastResult = default;
        for (int i = 0; i < 50; i++)
        {
            last = Compaction.Batch([(i % 4, $"p{i}"), ((i + 1) % 4, $"q{i}")], producerId: Pid, epoch: 0, baseSequence: seq);
            lastResult = Append(log, last.ToArray());
            Assert.True(lastResult.IsSuccess);
            seq += 2;
        }
        // A non-idempotent writer overwrites every key, so the producer's batches all become obsolete.
        Append(log, Compaction.Batch([(0, "x"), (1, "x"), (2, "x"), (3, "x")]));
        log.Roll();
        log.HighWatermark = log.LogEndOffset;
        using (var cleaner = new LogCleaner(() => [log], Compaction.CleanerConfig(), Time))
            Assert.NotNull(cleaner.CleanOnce());

        // The producer's last batch survives as an empty header holding its sequence range.
        var batches = new List<(long Pid, int BaseSeq, int Count, long Base, long Last)>();
        var read = log.Read(0, 1 << 20, log.HighWatermark, true);
        var reader = new RecordBatchReader(read.Records);
        while (reader.TryReadNext(out var b)) batches.Add((b.ProducerId, b.Header.BaseSequence, b.RecordCount, b.BaseOffset, b.LastOffset));
        Assert.Equal([(Pid, seq - 2, 0, lastResult.BaseOffset, lastResult.LastOffset), (-1L, -1, 4, lastResult.LastOffset + 1, lastResult.LastOffset + 4)], batches);

        // A retry of the last batch is a duplicate answered with its original offsets.
        var retry = Append(log, last.ToArray());
        Assert.True(retry.Duplicate);
        Assert.Equal(lastResult.BaseOffset, retry.BaseOffset);

        // The same after a crash that lost the producer snapshots: state is rebuilt from the compacted log.
        foreach (var f in Directory.EnumerateFiles(PartitionDir, "*.snapshot")) File.Delete(f);
        var reopened = Open(config);
        try
        {
            var retry2 = Append(reopened, last.ToArray());
            Assert.True(retry2.Duplicate);
            Assert.Equal(lastResult.BaseOffset, retry2.BaseOffset);
            var next = Append(reopened, Compaction.Batch([(9, "next")], producerId: Pid, epoch: 0, baseSequence: seq));
            Assert.True(next.IsSuccess);
            Assert.False(next.Duplicate);
            var gap = Append(reopened, Compaction.Batch([(9, "gap")], producerId: Pid, epoch: 0, baseSequence: seq + 5));
            Assert.Equal(AppendError.OutOfOrderSequence, gap.Error);
        }
        finally
        {
            reopened.Close();
        }
    }
}

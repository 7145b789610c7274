namespace Samsa.Storage.Tests;

public sealed class LogManagerTests : IDisposable
{
    private readonly TempDir _a = new();
    private readonly TempDir _b = new();
    private readonly ManualTimeProvider _time = new();

    private LogManager Create() => new([_a.Path, _b.Path], LogFlushPolicy.GroupCommit, _time);

    [Fact]
    public void Creates_spreads_reloads_and_deletes_partition_logs()
    {
        var topicId = Guid.NewGuid();
        using (var manager = Create())
        {
            for (int p = 0; p < 4; p++)
            {
                var log = manager.GetOrCreate("orders", p, LogConfig.Default, topicId);
                log.AppendAsLeader(TestBatches.Build(p + 1), 0, AppendOrigin.Client);
            }
            Assert.Same(manager.Get("orders", 2), manager.GetOrCreate("orders", 2, LogConfig.Default));
            Assert.Equal(2, Directory.GetDirectories(_a.Path).Length);
            Assert.Equal(2, Directory.GetDirectories(_b.Path).Length);
            Assert.Equal(topicId, PartitionMetadataFile.Read(manager.Get("orders", 1)!.Directory));
        }
        using (var manager = Create())
        {
            Assert.Equal(4, manager.AllPartitions().Count());
            for (int p = 0; p < 4; p++) Assert.Equal(p + 1, manager.Get("orders", p)!.LogEndOffset);
            Assert.Equal(4, manager.DeleteTopicPartitions("orders"));
            Assert.Empty(manager.AllPartitions());
            Assert.Empty(Directory.GetDirectories(_a.Path));
            Assert.Empty(Directory.GetDirectories(_b.Path));
        }
    }

    [Fact]
    public void Topic_names_with_dashes_round_trip()
    {
        using (var manager = Create()) manager.GetOrCreate("my-topic-v2", 11, LogConfig.Default);
        using var reloaded = Create();
        Assert.NotNull(reloaded.Get("my-topic-v2", 11));
    }

    [Fact]
    public async Task Background_retention_runs_on_the_injected_clock()
    {
        using var manager = Create();
        var config = LogConfig.Default with { SegmentBytes = 500, RetentionMs = 60_000, FileDeleteDelayMs = 0 };
        var log = manager.GetOrCreate("events", 0, config);
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < 10; i++) log.AppendAsLeader(TestBatches.Build(1, timestamp: now, valueSize: 200), 0, AppendOrigin.Client);
        Assert.True(log.SegmentCount > 2);
        log.HighWatermark = log.LogEndOffset; // everything durable (the broker moves the HW)
        manager.StartBackgroundTasks(TimeSpan.FromMinutes(5));

        _time.Advance(TimeSpan.FromMinutes(5));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (log.LogStartOffset == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(10, TestContext.Current.CancellationToken);
        Assert.Equal(10, log.LogStartOffset);
        Assert.Equal(1, log.SegmentCount);
    }

    [Fact]
    public void Run_retention_once_is_callable_directly()
    {
        using var manager = Create();
        var log = manager.GetOrCreate("events", 0, LogConfig.Default with { SegmentBytes = 500, RetentionBytes = 0, FileDeleteDelayMs = 0 });
        for (int i = 0; i < 10; i++) log.AppendAsLeader(TestBatches.Build(1, valueSize: 200), 0, AppendOrigin.Client);
        log.HighWatermark = log.LogEndOffset; // everything durable (the broker moves the HW)
        Assert.True(manager.RunRetentionOnce() > 0);
        Assert.Equal(1, log.SegmentCount);
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }
}

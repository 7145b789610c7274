namespace Samsa.Storage.Tests;

public sealed class FlushTests : LogTestBase
{
    [Fact]
    public async Task Concurrent_appenders_share_fsyncs()
    {
        using var log = Open();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, 50).Select(i => Task.Run(async () =>
        {
            await start.Task;
            var r = Append(log, TestBatches.Build(1, valueSize: 100));
            Assert.Equal(AppendError.None, r.Error);
            await log.WaitForFlushAsync(r.LastOffset + 1, TestContext.Current.CancellationToken);
            Assert.True(log.FlushedOffset > r.LastOffset);
        })).ToList();
        start.SetResult();
        await Task.WhenAll(tasks);
        Assert.Equal(50, log.LogEndOffset);
        Assert.Equal(50, log.FlushedOffset);
        Assert.InRange(log.FlushCount, 1, 49);
    }

    [Fact]
    public async Task Wait_for_already_flushed_offset_completes_immediately()
    {
        using var log = Open();
        Append(log, TestBatches.Build(2));
        Assert.Equal(0, log.FlushedOffset);
        log.Flush();
        Assert.Equal(2, log.FlushedOffset);
        long before = log.FlushCount;
        var wait = log.WaitForFlushAsync(2, TestContext.Current.CancellationToken);
        Assert.True(wait.IsCompletedSuccessfully);
        await wait;
        Assert.Equal(before, log.FlushCount);
    }

    [Fact]
    public async Task Waiting_for_a_future_offset_completes_after_it_is_appended()
    {
        using var log = Open();
        var wait = log.WaitForFlushAsync(1, TestContext.Current.CancellationToken).AsTask();
        Assert.False(wait.IsCompleted);
        Append(log, TestBatches.Build(1));
        await wait.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal(1, log.FlushedOffset);
    }

    [Fact]
    public void Interval_policy_flushes_by_time()
    {
        using var log = Open(flush: LogFlushPolicy.Interval(long.MaxValue, 1000));
        Append(log, TestBatches.Build(1));
        Assert.False(log.FlushIfDue());
        Time.Advance(TimeSpan.FromSeconds(2));
        Assert.True(log.FlushIfDue());
        Assert.Equal(1, log.FlushedOffset);
    }
}

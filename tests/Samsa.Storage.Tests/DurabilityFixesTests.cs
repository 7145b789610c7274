namespace Samsa.Storage.Tests;

/// <summary>Regressions for durability findings of the storage review.</summary>
public sealed class DurabilityFixesTests
{
    [Fact]
    public void Directory_fsync_really_runs_on_unix()
    {
        if (OperatingSystem.IsWindows()) return;
        string dir = Path.Combine(Path.GetTempPath(), "samsa-dirsync-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // .NET cannot open a directory as a file handle; the old code silently skipped the fsync.
            Assert.True(DurableFile.FsyncDirectory(dir));
        }
        finally
        {
            Directory.Delete(dir);
        }
    }

    [Fact]
    public async Task A_failed_fsync_is_sticky_later_waits_fail_instead_of_reporting_lost_data_durable()
    {
        long end = 10;
        int calls = 0;
        var flusher = new GroupCommitFlusher(0, () =>
        {
            if (Interlocked.Increment(ref calls) == 1) throw new IOException("EIO");
            return end; // a retry "succeeds", as Linux reports after dropping the dirty pages
        }, () => end);

        await Assert.ThrowsAsync<IOException>(async () => await flusher.WaitAsync(5, CancellationToken.None));
        end = 20;
        await Assert.ThrowsAsync<IOException>(async () => await flusher.WaitAsync(15, CancellationToken.None));
        Assert.Equal(0, flusher.FlushedOffset);
        Assert.Equal(1, calls);
    }
}

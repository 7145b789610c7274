using Microsoft.Extensions.Logging;

namespace Samsa.Storage;

/// <summary>
/// Deletes segments the Kafka way: renamed to ".deleted" at once (so a restart discards them), files removed after
/// file.delete.delay.ms so in-flight reads of the old handles can finish.
/// Thread-safety: safe for concurrent use.
/// </summary>
internal sealed class SegmentDeleter(TimeProvider time, ILogger logger)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<LogSegment, ITimer> _pending = new();

    /// <param name="alreadyRenamed">the caller renamed the files to ".deleted" itself (the cleaner's swap protocol).</param>
    public void Schedule(LogSegment segment, long delayMs, bool alreadyRenamed = false)
    {
        try
        {
            if (!alreadyRenamed) segment.AddSuffix(FileNames.DeletedSuffix);
        }
        catch (IOException e)
        {
            logger.LogWarning(e, "Renaming {Segment} for deletion failed", segment.LogPath);
        }
        if (delayMs <= 0)
        {
            segment.DeleteFiles();
            return;
        }
        lock (_lock)
        {
            var timer = time.CreateTimer(_ => DeleteNow(segment), null, TimeSpan.FromMilliseconds(delayMs), Timeout.InfiniteTimeSpan);
            _pending[segment] = timer;
        }
    }

    private void DeleteNow(LogSegment segment)
    {
        lock (_lock)
        {
            if (!_pending.Remove(segment, out var timer)) return;
            timer.Dispose();
        }
        segment.DeleteFiles();
    }

    /// <summary>Deletes every pending segment now (log closing or being deleted).</summary>
    public void DeleteAllNow()
    {
        List<LogSegment> all;
        lock (_lock)
        {
            all = _pending.Keys.ToList();
            foreach (var t in _pending.Values) t.Dispose();
            _pending.Clear();
        }
        foreach (var s in all) s.DeleteFiles();
    }
}

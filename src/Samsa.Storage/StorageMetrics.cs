namespace Samsa.Storage;

/// <summary>
/// Process-wide timing hooks of the storage layer, so the broker can export them without Storage depending on it.
/// Handlers run on the flushing thread: they must be cheap, allocation-free and must not throw.
/// </summary>
public static class StorageMetrics
{
    /// <summary>Raised after every group-commit flush pass (one fsync of a log's dirty files) with its duration.</summary>
    public static event Action<TimeSpan>? FlushCompleted;

    internal static void OnFlushCompleted(TimeSpan elapsed) => FlushCompleted?.Invoke(elapsed);
}

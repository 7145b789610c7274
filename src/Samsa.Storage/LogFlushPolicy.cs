namespace Samsa.Storage;

public enum LogFlushMode
{
    /// <summary>
    /// Data is fsynced when someone waits for it (<see cref="PartitionLog.WaitForFlushAsync"/>); one fsync covers every
    /// waiter pending at that moment (group commit). The default: an acknowledged acks=all write is on disk.
    /// </summary>
    GroupCommit,

    /// <summary>
    /// Kafka's log.flush.interval.messages / log.flush.interval.ms: fsync after that many unflushed messages or when the
    /// oldest unflushed write is that old (checked by <see cref="LogManager"/>'s flush loop). Waiters still force a flush.
    /// </summary>
    Interval,
}

/// <summary>Broker-level durability policy for partition logs.</summary>
public sealed record LogFlushPolicy
{
    public static LogFlushPolicy GroupCommit { get; } = new();

    public LogFlushMode Mode { get; init; } = LogFlushMode.GroupCommit;
    public long IntervalMessages { get; init; } = long.MaxValue;
    public long IntervalMs { get; init; } = long.MaxValue;

    public static LogFlushPolicy Interval(long messages, long ms) =>
        new() { Mode = LogFlushMode.Interval, IntervalMessages = messages, IntervalMs = ms };
}

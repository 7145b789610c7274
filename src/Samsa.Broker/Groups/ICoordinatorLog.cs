namespace Samsa.Broker.Groups;

/// <summary>
/// The log a coordinator shard persists to: one __consumer_offsets partition. <see cref="Append"/> is called under
/// the shard lock so records land in the order of the state changes they describe; it assigns offsets at once and
/// returns a task that completes when the records are durable (fsynced under group commit), or faults.
/// </summary>
public interface ICoordinatorLog
{
    Task Append(IReadOnlyList<CoordinatorRecord> records, long timestampMs);

    /// <summary>Every record from the log start, in offset order (the shard replays them when it loads).</summary>
    IEnumerable<CoordinatorRecord> ReadAll();
}

using Samsa.Broker.Groups;

namespace Samsa.Broker.Tests.Groups;

/// <summary>An in-memory __consumer_offsets partition: appends are durable at once.</summary>
internal sealed class InMemoryCoordinatorLog : ICoordinatorLog
{
    public List<CoordinatorRecord> Records { get; } = [];

    public Task Append(IReadOnlyList<CoordinatorRecord> records, long timestampMs)
    {
        lock (Records) Records.AddRange(records);
        return Task.CompletedTask;
    }

    public IEnumerable<CoordinatorRecord> ReadAll()
    {
        lock (Records) return Records.ToList();
    }
}

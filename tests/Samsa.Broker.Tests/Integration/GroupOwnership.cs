using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Tracks who owns which partition from consumers' rebalance callbacks (shared by the classic and KIP-848 group
/// tests): a partition assigned while another member owns it is a violation; consumed values are counted.
/// </summary>
internal sealed class Ownership
{
    private readonly Dictionary<int, string> _owners = [];
    public ConcurrentBag<string> Violations { get; } = [];
    public ConcurrentDictionary<string, int> Consumed { get; } = new();
    public ConcurrentQueue<string> Errors { get; } = new();
    public int Rebalances;

    public void Assigned(string member, IEnumerable<TopicPartition> partitions)
    {
        Interlocked.Increment(ref Rebalances);
        lock (_owners)
            foreach (var tp in partitions)
            {
                if (_owners.TryGetValue(tp.Partition.Value, out var owner) && owner != member)
                    Violations.Add($"{tp.Partition.Value} assigned to {member} while owned by {owner}");
                _owners[tp.Partition.Value] = member;
            }
    }

    public void Revoked(string member, IEnumerable<TopicPartition> partitions)
    {
        lock (_owners)
            foreach (var tp in partitions)
                if (_owners.GetValueOrDefault(tp.Partition.Value) == member) _owners.Remove(tp.Partition.Value);
    }

    public void Forget(string member)
    {
        lock (_owners)
            foreach (var p in _owners.Where(kv => kv.Value == member).Select(kv => kv.Key).ToList()) _owners.Remove(p);
    }

    public int Owned(string member)
    {
        lock (_owners) return _owners.Count(kv => kv.Value == member);
    }
}

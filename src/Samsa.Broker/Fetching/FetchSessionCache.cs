using System.Collections.Concurrent;

namespace Samsa.Broker.Fetching;

/// <summary>What a fetch session remembers of one partition (KIP-227).</summary>
public sealed class SessionPartition(string topic, Guid topicId, int partition)
{
    public string Topic { get; } = topic;
    public Guid TopicId { get; } = topicId;
    public int Partition { get; } = partition;
    public long FetchOffset { get; set; }
    public int MaxBytes { get; set; }
    public int CurrentLeaderEpoch { get; set; } = -1;
    public long LastHighWatermark { get; set; } = -1;
    public long LastLogStartOffset { get; set; } = -1;
    public long LastStableOffset { get; set; } = -1;
}

/// <summary>
/// An incremental fetch session: the partitions a client fetches, so later requests only list changes and later
/// responses only carry partitions with news. The epoch increments with every request (wrapping to 1).
/// Thread-safety: a session is used by one connection's fetches, which are sequential; the lock guards against a
/// misbehaving client using it from two connections.
/// </summary>
public sealed class FetchSession(int id, long createdMs)
{
    public int Id { get; } = id;
    public int NextEpoch { get; set; } = 1;
    public long LastUsedMs { get; set; } = createdMs;
    public object Lock { get; } = new();

    /// <summary>Insertion-ordered, as Kafka keeps them, so responses list partitions in a stable order.</summary>
    public List<SessionPartition> Partitions { get; } = [];

    public SessionPartition? Find(string topic, int partition) =>
        Partitions.Find(p => p.Partition == partition && p.Topic == topic);

    public void AdvanceEpoch() => NextEpoch = NextEpoch == int.MaxValue ? 1 : NextEpoch + 1;
}

/// <summary>
/// Bounded cache of fetch sessions (max.incremental.fetch.session.cache.slots, default 1000). When full, the least
/// recently used session idle longer than the eviction age is evicted; otherwise new sessions are not created and
/// the client falls back to full fetches (session id 0 in the response), as Kafka does.
/// </summary>
public sealed class FetchSessionCache(int maxSessions, TimeProvider time, long evictionAgeMs = 120_000)
{
    private readonly ConcurrentDictionary<int, FetchSession> _sessions = new();
    private readonly object _createLock = new();

    public int Count => _sessions.Count;

    public FetchSession? Get(int id) => _sessions.GetValueOrDefault(id);

    public void Remove(int id) => _sessions.TryRemove(id, out _);

    public FetchSession? TryCreate()
    {
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_createLock)
        {
            if (_sessions.Count >= maxSessions)
            {
                var oldest = _sessions.Values.MinBy(s => s.LastUsedMs);
                if (oldest is null || now - oldest.LastUsedMs < evictionAgeMs) return null;
                _sessions.TryRemove(oldest.Id, out _);
            }
            int id;
            do id = Random.Shared.Next(1, int.MaxValue); while (_sessions.ContainsKey(id));
            var session = new FetchSession(id, now);
            _sessions[id] = session;
            return session;
        }
    }

    public long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();
}

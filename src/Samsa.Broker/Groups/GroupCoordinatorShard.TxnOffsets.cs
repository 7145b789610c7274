using Microsoft.Extensions.Logging;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Storage;

namespace Samsa.Broker.Groups;

/// <summary>
/// Transactional offset commits (KIP-98 TxnOffsetCommit): offsets written to __consumer_offsets inside the producer's
/// transaction (a transactional batch with its producer id and epoch) stay pending — invisible to OffsetFetch, which
/// answers UNSTABLE_OFFSET_COMMIT to require_stable fetches meanwhile — until the transaction's marker reaches this
/// partition: COMMIT makes them the committed offsets, ABORT drops them. Replay does the same with the markers in the log.
/// </summary>
public sealed partial class GroupCoordinatorShard
{
    /// <summary>
    /// Validates as Kafka does for transactional commits (a member id, when given, must be a member; a generation, when
    /// given, must be the current one; without either the commit is accepted, creating an Empty group if needed),
    /// persists the offsets in the producer's transaction and holds them pending once durable.
    /// </summary>
    public async Task<ErrorCode> CommitTxnOffsetsAsync(string groupId, long producerId, short producerEpoch, int generationId,
        string memberId, string? instanceId, IReadOnlyList<OffsetCommitEntry> entries)
    {
        Task durable;
        List<(OffsetCommitEntry Entry, CommittedOffset Value)> values;
        lock (Lock)
        {
            if (StatusError != ErrorCode.None) return StatusError;
            if (memberId.Length == 0 && generationId < 0)
            {
                if (Group(groupId) is null) AddGroup(new ClassicGroup(groupId, NowMs));
            }
            else
            {
                var error = ValidateCommit(groupId, generationId, memberId, instanceId, entries);
                if (error != ErrorCode.None) return error;
            }
            if (entries.Count == 0) return ErrorCode.None;
            long now = NowMs;
            values = entries.Select(e => (e, new CommittedOffset(e.Offset, e.LeaderEpoch, e.Metadata ?? "", now, -1))).ToList();
            try
            {
                durable = _log.AppendTransactional(
                    values.Select(v => GroupRecordSerde.OffsetCommit(groupId, v.Entry.Topic, v.Entry.Partition, v.Value)).ToList(),
                    producerId, producerEpoch, now);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                durable = Task.FromException(e);
            }
        }
        try
        {
            await durable.ConfigureAwait(false);
        }
        catch (CoordinatorAppendException e) when (e.Error == AppendError.InvalidProducerEpoch)
        {
            return ErrorCode.ProducerFenced;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException or NotSupportedException)
        {
            _logger.LogWarning(e, "Persisting transactional offsets of group {Group} failed", groupId);
            return ErrorCode.CoordinatorNotAvailable;
        }
        lock (Lock)
        {
            foreach (var (entry, value) in values) Offsets.PutPending(producerId, groupId, entry.Topic, entry.Partition, value);
        }
        return ErrorCode.None;
    }

    /// <summary>
    /// A transaction marker of <paramref name="producerId"/> was written to this partition: its pending offsets become the
    /// committed ones (COMMIT) or are dropped (ABORT).
    /// </summary>
    public void CompleteTransaction(long producerId, bool commit)
    {
        lock (Lock)
        {
            foreach (var (key, offset) in Offsets.TakePending(producerId))
                if (commit) Offsets.PutIfNewer(key.Group, key.Topic, key.Partition, offset, ++_commitSequence);
        }
    }

    /// <summary>Partitions of <paramref name="partitions"/> whose offsets an open transaction holds for the group.</summary>
    public HashSet<(string Topic, int Partition)> UnstablePartitions(string groupId, IEnumerable<(string Topic, int Partition)> partitions)
    {
        lock (Lock) return partitions.Where(p => Offsets.HasPending(groupId, p.Topic, p.Partition)).ToHashSet();
    }
}

/// <summary>Replays transactional offset commits: pending per producer until a marker commits or drops them.</summary>
internal sealed class TransactionalOffsetReplay
{
    private readonly OffsetStore _pending = new();

    /// <summary>Handles transactional records and markers; false for every other record.</summary>
    public bool TryApply(CoordinatorRecord record, OffsetStore committed)
    {
        if (record.Marker is { } commit)
        {
            foreach (var (key, offset) in _pending.TakePending(record.ProducerId))
                if (commit) committed.Put(key.Group, key.Topic, key.Partition, offset);
            return true;
        }
        if (record.ProducerId < 0) return false;
        if (GroupRecordSerde.DecodeKey(record.Key) is OffsetCommitKey k && record.Value is not null)
            _pending.PutPending(record.ProducerId, k.Group, k.Topic, k.Partition, GroupRecordSerde.DecodeOffsetValue(record.Value));
        return true;
    }

    /// <summary>Offsets of transactions still open at the end of the log stay pending in the live store.</summary>
    public void MoveOpenTo(OffsetStore live)
    {
        foreach (long producerId in _pending.PendingProducers().ToList())
            foreach (var (key, offset) in _pending.TakePending(producerId))
                live.PutPending(producerId, key.Group, key.Topic, key.Partition, offset);
    }
}

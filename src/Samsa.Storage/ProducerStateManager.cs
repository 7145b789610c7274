using System.Buffers.Binary;
using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>Where an append comes from; decides how much producer validation applies (Kafka's AppendOrigin).</summary>
public enum AppendOrigin
{
    /// <summary>A producer: epoch and sequence are validated.</summary>
    Client,
    /// <summary>A coordinator writing its own records: epoch validated, sequence not.</summary>
    Coordinator,
    /// <summary>A follower copying the leader: nothing validated.</summary>
    Replication,
}

internal readonly record struct ProducerBatch(int FirstSeq, int LastSeq, long FirstOffset, long LastOffset);

/// <summary>A transaction a marker ended in this partition: its producer, first data offset, marker offset, outcome.</summary>
internal readonly record struct CompletedTxn(long ProducerId, long FirstOffset, long LastOffset, bool IsAborted);

/// <summary>
/// State of one idempotent producer: its epoch and the metadata of its last <see cref="MaxBatches"/> batches, enough to
/// answer a retried batch with the offsets it got the first time (the producer keeps at most 5 requests in flight).
/// </summary>
internal sealed class ProducerStateEntry
{
    public const int MaxBatches = 5;

    public ProducerStateEntry(long producerId, short epoch)
    {
        ProducerId = producerId;
        Epoch = epoch;
    }

    public long ProducerId { get; }
    public short Epoch { get; private set; }
    public long LastTimestamp { get; set; } = -1;
    public List<ProducerBatch> Batches { get; } = new(MaxBatches);
    /// <summary>First offset of the producer's open transaction in this partition, or -1 when none is open.</summary>
    public long CurrentTxnFirstOffset { get; set; } = -1;
    /// <summary>Coordinator epoch of the last end-transaction marker written for this producer (-1 before any).</summary>
    public int CoordinatorEpoch { get; set; } = -1;

    public int LastSeq => Batches.Count == 0 ? RecordBatchLayout.NoSequence : Batches[^1].LastSeq;
    public long LastOffset => Batches.Count == 0 ? -1 : Batches[^1].LastOffset;

    public ProducerStateEntry Clone()
    {
        var copy = new ProducerStateEntry(ProducerId, Epoch)
        {
            LastTimestamp = LastTimestamp, CurrentTxnFirstOffset = CurrentTxnFirstOffset, CoordinatorEpoch = CoordinatorEpoch,
        };
        copy.Batches.AddRange(Batches);
        return copy;
    }

    public void Add(short epoch, ProducerBatch batch, long timestamp)
    {
        if (epoch != Epoch)
        {
            Batches.Clear();
            Epoch = epoch;
        }
        if (Batches.Count == MaxBatches) Batches.RemoveAt(0);
        Batches.Add(batch);
        LastTimestamp = timestamp;
    }

    /// <summary>Records a batch without sequence numbers (control or coordinator batch): only the epoch moves.</summary>
    public void BumpEpoch(short epoch, long timestamp)
    {
        if (epoch != Epoch)
        {
            Batches.Clear();
            Epoch = epoch;
        }
        LastTimestamp = timestamp;
    }

    public ProducerBatch? FindDuplicate(short epoch, int firstSeq, int lastSeq)
    {
        if (epoch != Epoch) return null;
        foreach (var b in Batches)
            if (b.FirstSeq == firstSeq && b.LastSeq == lastSeq) return b;
        return null;
    }
}

/// <summary>
/// Producer state of one partition: validation of epochs and sequences (Kafka's ProducerAppendInfo rules), duplicate
/// detection, open transactions (first offset per producer, Kafka's ongoing transactions) from which the last stable
/// offset follows, and ".snapshot" files so a restart replays only the log tail.
/// Thread-safety: mutated only under the owning log's append lock; the transaction sets (<see cref="FirstUnstableOffset"/>)
/// are also read by fetches, under their own small lock.
/// Snapshot file "{offset:D20}.snapshot" holds the state after every batch below offset. Format (big-endian):
/// int16 version (2; 1 is still read), uint32 CRC-32C of everything after it, int32 producer count, then per producer:
/// int64 id, int16 epoch, int64 last timestamp, [v2: int64 open transaction's first offset or -1, int32 coordinator epoch],
/// int32 batch count, batches of (int32 firstSeq, int32 lastSeq, int64 firstOffset, int64 lastOffset).
/// </summary>
internal sealed class ProducerStateManager
{
    private const short SnapshotVersion = 2;

    private readonly string _dir;
    private readonly Lock _txnLock = new();
    // Open transactions by first offset; and transactions already ended whose marker may not be below the high watermark
    // yet (Kafka's unreplicated transactions): both hold the last stable offset back.
    private readonly SortedSet<(long FirstOffset, long ProducerId)> _ongoing = [];
    private readonly List<(long FirstOffset, long MarkerOffset)> _unreplicated = [];
    private Dictionary<long, ProducerStateEntry> _producers = new();

    public ProducerStateManager(string dir) => _dir = dir;

    public int ProducerCount => _producers.Count;

    public ProducerStateEntry? Get(long producerId) => _producers.GetValueOrDefault(producerId);

    /// <summary>Starts validating one append; changes apply on <see cref="ProducerAppend.Commit"/>.</summary>
    public ProducerAppend BeginAppend(AppendOrigin origin) => new(this, origin);

    /// <summary>
    /// Applies a batch already in the log (recovery replay) without validation. Returns the aborted transaction an ABORT
    /// marker ended (for the segment's ".txnindex"), else null. Control batches must carry their <see cref="BatchInfo.ControlType"/>.
    /// </summary>
    public AbortedTxn? Replay(in BatchInfo batch)
    {
        if (batch.ProducerId < 0) return null;
        if (!_producers.TryGetValue(batch.ProducerId, out var entry))
            _producers[batch.ProducerId] = entry = new ProducerStateEntry(batch.ProducerId, batch.ProducerEpoch);
        if (batch.ProducerEpoch < entry.Epoch) return null;
        bool wasOpen = entry.CurrentTxnFirstOffset >= 0;
        var ended = TrackTransaction(entry, batch);
        if (batch.IsControl || batch.BaseSequence < 0) entry.BumpEpoch(batch.ProducerEpoch, batch.MaxTimestamp);
        else
            entry.Add(batch.ProducerEpoch,
                new ProducerBatch(batch.BaseSequence, batch.LastSequence, batch.BaseOffset, batch.LastOffset), batch.MaxTimestamp);
        if (ended is { } e) return Apply([], [e]) is [var aborted] ? aborted : null;
        if (!wasOpen && entry.CurrentTxnFirstOffset >= 0) Apply([(entry.CurrentTxnFirstOffset, entry.ProducerId)], []);
        return null;
    }

    /// <summary>Opens or ends the producer's transaction for a batch; returns the transaction an end marker ended.</summary>
    private static CompletedTxn? TrackTransaction(ProducerStateEntry entry, in BatchInfo batch)
    {
        if (batch.IsTxnMarker)
        {
            long first = entry.CurrentTxnFirstOffset;
            entry.CurrentTxnFirstOffset = -1;
            // A marker for a partition that got no data in the transaction ends nothing.
            return first < 0 ? null : new CompletedTxn(entry.ProducerId, first, batch.LastOffset, batch.IsAbortMarker);
        }
        if (!batch.IsControl && batch.IsTransactional && entry.CurrentTxnFirstOffset < 0) entry.CurrentTxnFirstOffset = batch.BaseOffset;
        return null;
    }

    /// <summary>
    /// Publishes transactions opened and ended by an append (caller holds the log's append lock). Returns the aborted ones
    /// with the last stable offset right after each ended, for the ".txnindex".
    /// </summary>
    private List<AbortedTxn> Apply(List<(long FirstOffset, long ProducerId)> opened, List<CompletedTxn> ended)
    {
        var aborted = new List<AbortedTxn>();
        lock (_txnLock)
        {
            foreach (var o in opened) _ongoing.Add(o);
            foreach (var e in ended)
            {
                _ongoing.Remove((e.FirstOffset, e.ProducerId));
                _unreplicated.Add((e.FirstOffset, e.LastOffset));
                if (!e.IsAborted) continue;
                long lso = _ongoing.Count > 0 ? Math.Min(_ongoing.Min.FirstOffset, e.LastOffset + 1) : e.LastOffset + 1;
                aborted.Add(new AbortedTxn(e.ProducerId, e.FirstOffset, e.LastOffset, lso));
            }
        }
        return aborted;
    }

    /// <summary>
    /// The first offset a read_committed consumer may not read yet: the first offset of the earliest open transaction, or
    /// of an ended one whose marker is not below <paramref name="highWatermark"/> yet; long.MaxValue when none.
    /// </summary>
    public long FirstUnstableOffset(long highWatermark)
    {
        lock (_txnLock)
        {
            _unreplicated.RemoveAll(u => u.MarkerOffset < highWatermark);
            long first = _ongoing.Count > 0 ? _ongoing.Min.FirstOffset : long.MaxValue;
            foreach (var u in _unreplicated) first = Math.Min(first, u.FirstOffset);
            return first;
        }
    }

    /// <summary>Producers with state, for DescribeProducers (caller holds the append lock).</summary>
    public List<ProducerStateEntry> Entries() => [.. _producers.Values.Select(e => e.Clone())];

    public void Clear()
    {
        _producers = new Dictionary<long, ProducerStateEntry>();
        RebuildTransactions();
    }

    private void RebuildTransactions()
    {
        lock (_txnLock)
        {
            _ongoing.Clear();
            _unreplicated.Clear();
            foreach (var e in _producers.Values)
                if (e.CurrentTxnFirstOffset >= 0) _ongoing.Add((e.CurrentTxnFirstOffset, e.ProducerId));
        }
    }

    /// <summary>Producer id → offset of its last data batch's last record, for producers that have one.</summary>
    public Dictionary<long, long> LastOffsets()
    {
        var result = new Dictionary<long, long>(_producers.Count);
        foreach (var (id, entry) in _producers)
            if (entry.LastOffset >= 0) result[id] = entry.LastOffset;
        return result;
    }

    // ---- snapshots ----

    public IEnumerable<long> SnapshotOffsets() =>
        Directory.EnumerateFiles(_dir, "*" + FileNames.SnapshotSuffix)
            .Select(p => FileNames.TryParseOffset(Path.GetFileName(p), FileNames.SnapshotSuffix, out long o) ? o : -1)
            .Where(o => o >= 0)
            .Order();

    public void WriteSnapshot(long offset)
    {
        var body = new MemoryStream();
        Span<byte> scratch = stackalloc byte[24];
        void Put(ReadOnlySpan<byte> s) => body.Write(s);
        BinaryPrimitives.WriteInt32BigEndian(scratch, _producers.Count);
        Put(scratch[..4]);
        foreach (var e in _producers.Values)
        {
            BinaryPrimitives.WriteInt64BigEndian(scratch, e.ProducerId);
            BinaryPrimitives.WriteInt16BigEndian(scratch[8..], e.Epoch);
            BinaryPrimitives.WriteInt64BigEndian(scratch[10..], e.LastTimestamp);
            Put(scratch[..18]);
            BinaryPrimitives.WriteInt64BigEndian(scratch, e.CurrentTxnFirstOffset);
            BinaryPrimitives.WriteInt32BigEndian(scratch[8..], e.CoordinatorEpoch);
            BinaryPrimitives.WriteInt32BigEndian(scratch[12..], e.Batches.Count);
            Put(scratch[..16]);
            foreach (var b in e.Batches)
            {
                BinaryPrimitives.WriteInt32BigEndian(scratch, b.FirstSeq);
                BinaryPrimitives.WriteInt32BigEndian(scratch[4..], b.LastSeq);
                BinaryPrimitives.WriteInt64BigEndian(scratch[8..], b.FirstOffset);
                BinaryPrimitives.WriteInt64BigEndian(scratch[16..], b.LastOffset);
                Put(scratch[..24]);
            }
        }
        var payload = body.ToArray();
        var file = new byte[6 + payload.Length];
        BinaryPrimitives.WriteInt16BigEndian(file, SnapshotVersion);
        BinaryPrimitives.WriteUInt32BigEndian(file.AsSpan(2), Crc32C.Compute(payload));
        payload.CopyTo(file, 6);
        string path = FileNames.SnapshotFile(_dir, offset);
        DurableFile.WriteAtomically(path, file);
    }

    /// <summary>
    /// Loads the newest valid snapshot at or below <paramref name="maxOffset"/>, deleting newer and corrupt ones.
    /// Returns its offset, or null (state cleared) when there is none.
    /// </summary>
    public long? LoadLatestSnapshot(long maxOffset)
    {
        Clear();
        foreach (long offset in SnapshotOffsets().Reverse().ToList())
        {
            string path = FileNames.SnapshotFile(_dir, offset);
            if (offset > maxOffset || !TryLoad(path))
            {
                File.Delete(path);
                continue;
            }
            return offset;
        }
        return null;
    }

    /// <summary>Deletes snapshots older than the newest one at or below <paramref name="offset"/> (keeps that one).</summary>
    public void DeleteSnapshotsBefore(long offset)
    {
        var all = SnapshotOffsets().ToList();
        long keep = all.Where(o => o <= offset).DefaultIfEmpty(-1).Max();
        foreach (long o in all.Where(o => o < keep)) File.Delete(FileNames.SnapshotFile(_dir, o));
    }

    public void DeleteSnapshotsAbove(long offset)
    {
        foreach (long o in SnapshotOffsets().Where(o => o > offset).ToList()) File.Delete(FileNames.SnapshotFile(_dir, o));
    }

    private bool TryLoad(string path)
    {
        byte[] data;
        try { data = File.ReadAllBytes(path); }
        catch (IOException) { return false; }
        short version = data.Length < 10 ? (short)0 : BinaryPrimitives.ReadInt16BigEndian(data);
        if (version is not (1 or SnapshotVersion)) return false;
        var payload = data.AsSpan(6);
        if (Crc32C.Compute(payload) != BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(2))) return false;
        try
        {
            var producers = new Dictionary<long, ProducerStateEntry>();
            int at = 0;
            int count = BinaryPrimitives.ReadInt32BigEndian(payload);
            at += 4;
            for (int i = 0; i < count; i++)
            {
                long id = BinaryPrimitives.ReadInt64BigEndian(payload[at..]);
                short epoch = BinaryPrimitives.ReadInt16BigEndian(payload[(at + 8)..]);
                long ts = BinaryPrimitives.ReadInt64BigEndian(payload[(at + 10)..]);
                at += 18;
                var entry = new ProducerStateEntry(id, epoch) { LastTimestamp = ts };
                if (version >= 2)
                {
                    entry.CurrentTxnFirstOffset = BinaryPrimitives.ReadInt64BigEndian(payload[at..]);
                    entry.CoordinatorEpoch = BinaryPrimitives.ReadInt32BigEndian(payload[(at + 8)..]);
                    at += 12;
                }
                int batches = BinaryPrimitives.ReadInt32BigEndian(payload[at..]);
                at += 4;
                for (int b = 0; b < batches; b++)
                {
                    entry.Batches.Add(new ProducerBatch(
                        BinaryPrimitives.ReadInt32BigEndian(payload[at..]),
                        BinaryPrimitives.ReadInt32BigEndian(payload[(at + 4)..]),
                        BinaryPrimitives.ReadInt64BigEndian(payload[(at + 8)..]),
                        BinaryPrimitives.ReadInt64BigEndian(payload[(at + 16)..])));
                    at += 24;
                }
                producers[id] = entry;
            }
            _producers = producers;
            RebuildTransactions();
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>
    /// Validation of one append against current state plus the batches earlier in the same append.
    /// </summary>
    internal sealed class ProducerAppend(ProducerStateManager owner, AppendOrigin origin)
    {
        private readonly Dictionary<long, ProducerStateEntry> _updated = new();
        private readonly List<(long FirstOffset, long ProducerId)> _opened = [];
        private readonly List<CompletedTxn> _ended = [];

        private ProducerStateEntry? Current(long producerId) =>
            _updated.TryGetValue(producerId, out var e) ? e : owner.Get(producerId);

        /// <summary>The original offsets if this batch is a retry of one of the producer's last 5 batches.</summary>
        public ProducerBatch? FindDuplicate(in BatchInfo batch)
        {
            if (batch.ProducerId < 0 || batch.BaseSequence < 0) return null;
            return Current(batch.ProducerId)?.FindDuplicate(batch.ProducerEpoch, batch.BaseSequence, batch.LastSequence);
        }

        /// <summary>Validates and records a batch whose offsets are assigned in <paramref name="batch"/>.</summary>
        public AppendError Append(in BatchInfo batch)
        {
            if (batch.ProducerId < 0) return AppendError.None;
            var current = Current(batch.ProducerId);
            if (origin != AppendOrigin.Replication)
            {
                if (current is not null && batch.ProducerEpoch < current.Epoch) return AppendError.InvalidProducerEpoch;
                // Kafka: a client cannot write control batches, and a producer with an open transaction cannot write
                // outside it (its non-transactional data would be neither committed nor aborted).
                if (origin == AppendOrigin.Client && batch.IsControl) return AppendError.InvalidTxnState;
                if (!batch.IsControl && !batch.IsTransactional && current is { CurrentTxnFirstOffset: >= 0 }) return AppendError.InvalidTxnState;
                if (origin == AppendOrigin.Client && !batch.IsControl && !InSequence(current, batch))
                    return AppendError.OutOfOrderSequence;
            }
            var updated = current is null
                ? new ProducerStateEntry(batch.ProducerId, batch.ProducerEpoch)
                : _updated.ContainsKey(batch.ProducerId) ? current : current.Clone();
            _updated[batch.ProducerId] = updated;
            bool wasOpen = updated.CurrentTxnFirstOffset >= 0;
            if (TrackTransaction(updated, batch) is { } ended) _ended.Add(ended);
            else if (!wasOpen && updated.CurrentTxnFirstOffset >= 0) _opened.Add((updated.CurrentTxnFirstOffset, updated.ProducerId));
            if (batch.BaseSequence >= 0 && !batch.IsControl)
                updated.Add(batch.ProducerEpoch,
                    new ProducerBatch(batch.BaseSequence, batch.LastSequence, batch.BaseOffset, batch.LastOffset), batch.MaxTimestamp);
            else
                updated.BumpEpoch(batch.ProducerEpoch, batch.MaxTimestamp);
            return AppendError.None;
        }

        private static bool InSequence(ProducerStateEntry? current, in BatchInfo batch)
        {
            int first = batch.BaseSequence;
            // Unknown producer (new, or its state was removed with the log prefix): accept any sequence, as Kafka does.
            if (current is null) return true;
            if (batch.ProducerEpoch != current.Epoch) return first == 0;
            int last = current.LastSeq;
            if (last == RecordBatchLayout.NoSequence) return true;
            return first == (long)last + 1 || (first == 0 && last == int.MaxValue);
        }

        /// <summary>Applies the append; returns the transactions it aborted (with their last stable offsets) for the ".txnindex".</summary>
        public List<AbortedTxn> Commit()
        {
            foreach (var (id, entry) in _updated) owner._producers[id] = entry;
            // A transaction opened and ended within one append is never open in between.
            _opened.RemoveAll(o => _ended.Any(e => e.ProducerId == o.ProducerId && e.FirstOffset == o.FirstOffset));
            return owner.Apply(_opened, _ended);
        }
    }
}

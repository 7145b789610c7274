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

    public int LastSeq => Batches.Count == 0 ? RecordBatchLayout.NoSequence : Batches[^1].LastSeq;
    public long LastOffset => Batches.Count == 0 ? -1 : Batches[^1].LastOffset;

    public ProducerStateEntry Clone()
    {
        var copy = new ProducerStateEntry(ProducerId, Epoch) { LastTimestamp = LastTimestamp };
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
/// Idempotent producer state of one partition: validation of epochs and sequences (Kafka's ProducerAppendInfo rules),
/// duplicate detection, and ".snapshot" files so a restart replays only the log tail.
/// Thread-safety: used only under the owning log's append lock.
/// Snapshot file "{offset:D20}.snapshot" holds the state after every batch below offset. Format (big-endian):
/// int16 version=1, uint32 CRC-32C of everything after it, int32 producer count, then per producer: int64 id,
/// int16 epoch, int64 last timestamp, int32 batch count, batches of (int32 firstSeq, int32 lastSeq, int64 firstOffset,
/// int64 lastOffset).
/// </summary>
internal sealed class ProducerStateManager
{
    private const short SnapshotVersion = 1;

    private readonly string _dir;
    private Dictionary<long, ProducerStateEntry> _producers = new();

    public ProducerStateManager(string dir) => _dir = dir;

    public int ProducerCount => _producers.Count;

    public ProducerStateEntry? Get(long producerId) => _producers.GetValueOrDefault(producerId);

    /// <summary>Starts validating one append; changes apply on <see cref="ProducerAppend.Commit"/>.</summary>
    public ProducerAppend BeginAppend(AppendOrigin origin) => new(this, origin);

    /// <summary>Applies a batch already in the log (recovery replay, follower append) without validation.</summary>
    public void Replay(in BatchInfo batch)
    {
        if (batch.ProducerId < 0) return;
        if (!_producers.TryGetValue(batch.ProducerId, out var entry))
            _producers[batch.ProducerId] = entry = new ProducerStateEntry(batch.ProducerId, batch.ProducerEpoch);
        if (batch.ProducerEpoch < entry.Epoch) return;
        if (batch.IsControl || batch.BaseSequence < 0)
        {
            entry.BumpEpoch(batch.ProducerEpoch, batch.MaxTimestamp);
            return;
        }
        entry.Add(batch.ProducerEpoch,
            new ProducerBatch(batch.BaseSequence, batch.LastSequence, batch.BaseOffset, batch.LastOffset), batch.MaxTimestamp);
    }

    public void Clear() => _producers = new Dictionary<long, ProducerStateEntry>();

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
            BinaryPrimitives.WriteInt32BigEndian(scratch[18..], e.Batches.Count);
            Put(scratch[..22]);
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
        if (data.Length < 10 || BinaryPrimitives.ReadInt16BigEndian(data) != SnapshotVersion) return false;
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
                int batches = BinaryPrimitives.ReadInt32BigEndian(payload[(at + 18)..]);
                at += 22;
                var entry = new ProducerStateEntry(id, epoch) { LastTimestamp = ts };
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
                if (origin == AppendOrigin.Client && !batch.IsControl && !InSequence(current, batch))
                    return AppendError.OutOfOrderSequence;
            }
            var updated = current is null
                ? new ProducerStateEntry(batch.ProducerId, batch.ProducerEpoch)
                : _updated.ContainsKey(batch.ProducerId) ? current : current.Clone();
            _updated[batch.ProducerId] = updated;
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

        public void Commit()
        {
            foreach (var (id, entry) in _updated) owner._producers[id] = entry;
        }
    }
}

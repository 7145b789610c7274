using System.IO.Hashing;

namespace Samsa.Storage;

/// <summary>
/// Key → latest offset map of one cleaning pass in a fixed amount of memory (Kafka's SkimpyOffsetMap idea): keys are
/// stored as 128-bit XxHash128 digests, never as bytes, in an open-addressing table with linear probing. Each slot is
/// 24 bytes (two 64-bit hash halves and the offset), so <c>memoryBytes / 24</c> slots; the cleaner stops adding once
/// <see cref="IsFull"/> (load factor 0.9, Kafka's log.cleaner.io.buffer.load.factor) and cleans only up to
/// <see cref="LatestOffset"/>. A digest collision would make two keys share one entry (probability ~n²/2¹²⁹, accepted
/// as Kafka accepts MD5's). Not thread-safe: one map per cleaner thread, reused across passes.
/// </summary>
internal sealed class OffsetMap
{
    public const int BytesPerEntry = 24;
    private const double LoadFactor = 0.9;

    private readonly ulong[] _hashLow;
    private readonly ulong[] _hashHigh;
    // Offset + 1, so the zeroed array means "all slots empty".
    private readonly long[] _offsetPlusOne;
    private readonly int _maxEntries;

    public OffsetMap(long memoryBytes)
    {
        long slots = Math.Clamp(memoryBytes / BytesPerEntry, 16, Array.MaxLength);
        Slots = (int)slots;
        _hashLow = new ulong[Slots];
        _hashHigh = new ulong[Slots];
        _offsetPlusOne = new long[Slots];
        _maxEntries = Math.Max(1, (int)(Slots * LoadFactor));
    }

    public int Slots { get; }
    public int Count { get; private set; }
    public bool IsFull => Count >= _maxEntries;
    /// <summary>Entries the map accepts before it counts as full; the cleaner checks a whole batch fits before adding it.</summary>
    public int MaxEntries => _maxEntries;
    /// <summary>Largest offset put since <see cref="Clear"/>, or -1.</summary>
    public long LatestOffset { get; private set; } = -1;
    public long MemoryBytes => (long)Slots * BytesPerEntry;

    public void Clear()
    {
        Array.Clear(_hashLow);
        Array.Clear(_hashHigh);
        Array.Clear(_offsetPlusOne);
        Count = 0;
        LatestOffset = -1;
    }

    /// <summary>Records <paramref name="offset"/> as the latest for <paramref name="key"/> (offsets come in increasing order).</summary>
    public void Put(ReadOnlySpan<byte> key, long offset)
    {
        var hash = XxHash128.HashToUInt128(key);
        ulong lo = (ulong)hash, hi = (ulong)(hash >> 64);
        int slot = (int)(lo % (ulong)Slots);
        while (true)
        {
            if (_offsetPlusOne[slot] == 0)
            {
                if (Count >= Slots - 1) throw new InvalidOperationException("The offset map is full.");
                _hashLow[slot] = lo;
                _hashHigh[slot] = hi;
                _offsetPlusOne[slot] = offset + 1;
                Count++;
                break;
            }
            if (_hashLow[slot] == lo && _hashHigh[slot] == hi)
            {
                _offsetPlusOne[slot] = offset + 1;
                break;
            }
            if (++slot == Slots) slot = 0;
        }
        if (offset > LatestOffset) LatestOffset = offset;
    }

    /// <summary>Latest offset recorded for <paramref name="key"/>, or -1.</summary>
    public long Get(ReadOnlySpan<byte> key)
    {
        var hash = XxHash128.HashToUInt128(key);
        ulong lo = (ulong)hash, hi = (ulong)(hash >> 64);
        int slot = (int)(lo % (ulong)Slots);
        while (true)
        {
            long v = _offsetPlusOne[slot];
            if (v == 0) return -1;
            if (_hashLow[slot] == lo && _hashHigh[slot] == hi) return v - 1;
            if (++slot == Slots) slot = 0;
        }
    }

    /// <summary>Marks the map as covering offsets up to <paramref name="offset"/> (batches without keys still advance it).</summary>
    public void UpdateLatestOffset(long offset)
    {
        if (offset > LatestOffset) LatestOffset = offset;
    }
}

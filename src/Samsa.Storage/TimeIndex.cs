using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Samsa.Storage;

/// <summary>
/// Sparse timestamp → offset index of one segment (Kafka's ".timeindex").
/// File format: 12-byte entries, big-endian int64 timestamp, int32 offset relative to the segment base offset.
/// Timestamps are strictly increasing: an entry (t, o) says "the largest timestamp seen up to offset o is t", so every
/// record with timestamp &gt; t is after o. The last entry of a rolled or closed segment holds its max timestamp.
/// Thread-safety: all members lock the instance.
/// </summary>
internal sealed class TimeIndex : IDisposable
{
    public const int EntrySize = 12;

    private readonly Lock _lock = new();
    private readonly long _baseOffset;
    private readonly int _maxEntries;
    private bool _fileLengthWasAligned;
    private SafeFileHandle _handle;
    private long[] _timestamps;
    private int[] _offsets;
    private int _count;

    public TimeIndex(string path, long baseOffset, int maxIndexBytes)
    {
        Path = path;
        _baseOffset = baseOffset;
        _maxEntries = Math.Max(1, maxIndexBytes / EntrySize);
        _handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        long length = RandomAccess.GetLength(_handle);
        int count = (int)Math.Min(length / EntrySize, int.MaxValue / 2);
        _timestamps = new long[Math.Max(16, count)];
        _offsets = new int[_timestamps.Length];
        if (count > 0)
        {
            var buffer = new byte[count * EntrySize];
            count = OffsetIndex.ReadFully(_handle, buffer, 0) / EntrySize;
            for (int i = 0; i < count; i++)
            {
                _timestamps[i] = BinaryPrimitives.ReadInt64BigEndian(buffer.AsSpan(i * EntrySize));
                _offsets[i] = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(i * EntrySize + 8));
            }
        }
        _count = count;
        _fileLengthWasAligned = length % EntrySize == 0;
    }

    public string Path { get; private set; }
    public int EntryCount { get { lock (_lock) return _count; } }
    public bool IsFull { get { lock (_lock) return _count >= _maxEntries; } }

    /// <summary>The last entry, or (-1, base offset) when empty.</summary>
    public (long Timestamp, long Offset) LastEntry
    {
        get { lock (_lock) return _count == 0 ? (-1, _baseOffset) : (_timestamps[_count - 1], _baseOffset + _offsets[_count - 1]); }
    }

    public bool IsSane(long maxOffsetExclusive)
    {
        lock (_lock)
        {
            if (!_fileLengthWasAligned) return false;
            for (int i = 0; i < _count; i++)
            {
                if (_offsets[i] < 0 || _baseOffset + _offsets[i] >= maxOffsetExclusive) return false;
                if (i > 0 && (_timestamps[i] <= _timestamps[i - 1] || _offsets[i] < _offsets[i - 1])) return false;
            }
            return true;
        }
    }

    /// <summary>Appends (timestamp, offset) if the timestamp is larger than the last one.</summary>
    public void MaybeAppend(long timestamp, long offset, bool skipFullCheck = false)
    {
        lock (_lock)
        {
            if (_count > 0 && timestamp <= _timestamps[_count - 1]) return;
            if (!skipFullCheck && _count >= _maxEntries) return;
            int rel = checked((int)(offset - _baseOffset));
            if (_count > 0 && rel < _offsets[_count - 1]) return;
            if (_count == _timestamps.Length)
            {
                Array.Resize(ref _timestamps, _count * 2);
                Array.Resize(ref _offsets, _count * 2);
            }
            Span<byte> entry = stackalloc byte[EntrySize];
            BinaryPrimitives.WriteInt64BigEndian(entry, timestamp);
            BinaryPrimitives.WriteInt32BigEndian(entry[8..], rel);
            RandomAccess.Write(_handle, entry, (long)_count * EntrySize);
            _timestamps[_count] = timestamp;
            _offsets[_count] = rel;
            _count++;
        }
    }

    /// <summary>The entry with the largest timestamp ≤ <paramref name="timestamp"/>, or (-1, base offset).</summary>
    public (long Timestamp, long Offset) Lookup(long timestamp)
    {
        lock (_lock)
        {
            int lo = 0, hi = _count - 1, found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (_timestamps[mid] <= timestamp) { found = mid; lo = mid + 1; }
                else hi = mid - 1;
            }
            return found < 0 ? (-1, _baseOffset) : (_timestamps[found], _baseOffset + _offsets[found]);
        }
    }

    /// <summary>Removes every entry whose offset is ≥ <paramref name="offset"/>.</summary>
    public void TruncateTo(long offset)
    {
        lock (_lock)
        {
            long rel = offset - _baseOffset;
            int keep = _count;
            while (keep > 0 && _offsets[keep - 1] >= rel) keep--;
            _count = keep;
            RandomAccess.SetLength(_handle, (long)keep * EntrySize);
            _fileLengthWasAligned = true;
        }
    }

    public void Reset() => TruncateTo(long.MinValue / 2);

    public void Flush()
    {
        lock (_lock) RandomAccess.FlushToDisk(_handle);
    }

    public void Rename(string newPath)
    {
        lock (_lock)
        {
            if (File.Exists(Path)) File.Move(Path, newPath, overwrite: true);
            Path = newPath;
        }
    }

    public void Dispose()
    {
        lock (_lock) _handle.Dispose();
    }
}

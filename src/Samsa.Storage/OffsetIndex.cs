using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Samsa.Storage;

/// <summary>
/// Sparse offset → file position index of one segment (Kafka's ".index").
/// File format: 8-byte entries, big-endian int32 offset relative to the segment base offset, int32 byte position of the
/// batch in the .log. Entries are strictly increasing in both fields; an entry's offset is the LAST offset of the batch
/// starting at that position, so a lookup may land on a batch that ends before the target and the caller scans forward.
/// Entries are mirrored in memory; the file is append-only (not preallocated) and always rebuildable from the log.
/// Thread-safety: all members lock the instance; appends come from the log's single writer.
/// </summary>
internal sealed class OffsetIndex : IDisposable
{
    public const int EntrySize = 8;

    private readonly Lock _lock = new();
    private readonly long _baseOffset;
    private readonly int _maxEntries;
    private SafeFileHandle _handle;
    private int[] _offsets;
    private int[] _positions;
    private int _count;

    public OffsetIndex(string path, long baseOffset, int maxIndexBytes)
    {
        Path = path;
        _baseOffset = baseOffset;
        _maxEntries = Math.Max(1, maxIndexBytes / EntrySize);
        _handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        long length = RandomAccess.GetLength(_handle);
        int count = (int)Math.Min(length / EntrySize, int.MaxValue / 2);
        _offsets = new int[Math.Max(16, count)];
        _positions = new int[_offsets.Length];
        if (count > 0)
        {
            var buffer = new byte[count * EntrySize];
            int read = ReadFully(_handle, buffer, 0);
            count = read / EntrySize;
            for (int i = 0; i < count; i++)
            {
                _offsets[i] = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(i * EntrySize));
                _positions[i] = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(i * EntrySize + 4));
            }
        }
        _count = count;
        FileLengthWasAligned = length % EntrySize == 0;
    }

    public string Path { get; private set; }
    /// <summary>False when the file length was not a multiple of the entry size (torn write): the index needs a rebuild.</summary>
    private bool FileLengthWasAligned { get; set; }

    public int EntryCount { get { lock (_lock) return _count; } }
    public bool IsFull { get { lock (_lock) return _count >= _maxEntries; } }

    /// <summary>Last indexed offset, or the base offset when empty.</summary>
    public long LastOffset { get { lock (_lock) return _count == 0 ? _baseOffset : _baseOffset + _offsets[_count - 1]; } }

    /// <summary>True when the file is well-formed for a log of <paramref name="logSize"/> bytes.</summary>
    public bool IsSane(long logSize)
    {
        lock (_lock)
        {
            if (!FileLengthWasAligned) return false;
            for (int i = 0; i < _count; i++)
            {
                if (_offsets[i] < 0 || _positions[i] < 0 || _positions[i] >= logSize) return false;
                if (i > 0 && (_offsets[i] <= _offsets[i - 1] || _positions[i] <= _positions[i - 1])) return false;
            }
            return true;
        }
    }

    public void Append(long offset, int position)
    {
        lock (_lock)
        {
            int rel = checked((int)(offset - _baseOffset));
            if (_count > 0 && rel <= _offsets[_count - 1]) return;
            if (_count == _offsets.Length)
            {
                Array.Resize(ref _offsets, _count * 2);
                Array.Resize(ref _positions, _count * 2);
            }
            Span<byte> entry = stackalloc byte[EntrySize];
            BinaryPrimitives.WriteInt32BigEndian(entry, rel);
            BinaryPrimitives.WriteInt32BigEndian(entry[4..], position);
            RandomAccess.Write(_handle, entry, (long)_count * EntrySize);
            _offsets[_count] = rel;
            _positions[_count] = position;
            _count++;
        }
    }

    /// <summary>The entry with the largest offset ≤ <paramref name="target"/>, or (base offset, 0).</summary>
    public (long Offset, int Position) Lookup(long target)
    {
        lock (_lock)
        {
            long rel = target - _baseOffset;
            int lo = 0, hi = _count - 1, found = -1;
            while (lo <= hi)
            {
                int mid = (lo + hi) >>> 1;
                if (_offsets[mid] <= rel) { found = mid; lo = mid + 1; }
                else hi = mid - 1;
            }
            return found < 0 ? (_baseOffset, 0) : (_baseOffset + _offsets[found], _positions[found]);
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
            FileLengthWasAligned = true;
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

    internal static int ReadFully(SafeFileHandle handle, Span<byte> buffer, long position)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = RandomAccess.Read(handle, buffer[total..], position + total);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}

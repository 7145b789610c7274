using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace Samsa.Storage;

/// <summary>
/// An aborted transaction as the ".txnindex" records it (Kafka's AbortedTxn): the producer, the first offset of its data
/// in the partition, the offset of its ABORT marker, and the last stable offset right after the marker was written
/// (lets a reader stop searching later segments once every transaction starting below its range has ended).
/// </summary>
public readonly record struct AbortedTxn(long ProducerId, long FirstOffset, long LastOffset, long LastStableOffset);

/// <summary>
/// The aborted-transaction index of one segment (Kafka's ".txnindex"): one entry per ABORT marker in the segment, in
/// marker order. File format (Kafka's, so tools read it): 34-byte big-endian entries of int16 version (0), int64 producer
/// id, int64 first offset, int64 last offset (the marker), int64 last stable offset. Entries are mirrored in memory; the
/// file is append-only, fsynced with its segment, and rebuildable from the log (producer state replay re-appends them).
/// Thread-safety: all members lock the instance; appends come from the log's single writer.
/// </summary>
internal sealed class TransactionIndex : IDisposable
{
    public const int EntrySize = 34;
    private const short Version = 0;

    private readonly Lock _lock = new();
    private readonly List<AbortedTxn> _entries = [];
    private SafeFileHandle? _handle;
    private bool _dirty;

    public TransactionIndex(string path)
    {
        Path = path;
        if (!File.Exists(path)) return;
        _handle = OpenHandle(path);
        long length = RandomAccess.GetLength(_handle);
        var buffer = new byte[length - length % EntrySize];
        int read = OffsetIndex.ReadFully(_handle, buffer, 0);
        for (int at = 0; at + EntrySize <= read; at += EntrySize)
        {
            var e = buffer.AsSpan(at, EntrySize);
            if (BinaryPrimitives.ReadInt16BigEndian(e) != Version) break;
            _entries.Add(new AbortedTxn(BinaryPrimitives.ReadInt64BigEndian(e[2..]), BinaryPrimitives.ReadInt64BigEndian(e[10..]),
                BinaryPrimitives.ReadInt64BigEndian(e[18..]), BinaryPrimitives.ReadInt64BigEndian(e[26..])));
        }
        // A torn tail (crash mid-append) or an unknown version is cut off; replay re-appends what is missing.
        if (length != _entries.Count * (long)EntrySize) RandomAccess.SetLength(_handle, _entries.Count * (long)EntrySize);
    }

    public string Path { get; private set; }

    public IReadOnlyList<AbortedTxn> Entries
    {
        get { lock (_lock) return [.. _entries]; }
    }

    public bool IsEmpty
    {
        get { lock (_lock) return _entries.Count == 0; }
    }

    /// <summary>Appends an entry; its marker offset must not be below the last entry's (the log's order).</summary>
    public void Append(AbortedTxn txn)
    {
        lock (_lock)
        {
            if (_entries.Count > 0 && txn.LastOffset < _entries[^1].LastOffset)
                throw new InvalidOperationException($"Aborted transaction marker {txn.LastOffset} is below the last indexed one {_entries[^1].LastOffset}.");
            _handle ??= OpenHandle(Path);
            Span<byte> entry = stackalloc byte[EntrySize];
            BinaryPrimitives.WriteInt16BigEndian(entry, Version);
            BinaryPrimitives.WriteInt64BigEndian(entry[2..], txn.ProducerId);
            BinaryPrimitives.WriteInt64BigEndian(entry[10..], txn.FirstOffset);
            BinaryPrimitives.WriteInt64BigEndian(entry[18..], txn.LastOffset);
            BinaryPrimitives.WriteInt64BigEndian(entry[26..], txn.LastStableOffset);
            RandomAccess.Write(_handle, entry, _entries.Count * (long)EntrySize);
            _entries.Add(txn);
            _dirty = true;
        }
    }

    /// <summary>Removes every entry whose marker is at or above <paramref name="offset"/> (log truncation, replay).</summary>
    public void TruncateTo(long offset)
    {
        lock (_lock)
        {
            int keep = _entries.Count;
            while (keep > 0 && _entries[keep - 1].LastOffset >= offset) keep--;
            if (keep == _entries.Count) return;
            _entries.RemoveRange(keep, _entries.Count - keep);
            if (_handle is not null) RandomAccess.SetLength(_handle, keep * (long)EntrySize);
            _dirty = true;
        }
    }

    /// <summary>
    /// Adds to <paramref name="into"/> the entries whose transaction overlaps [<paramref name="fetchOffset"/>,
    /// <paramref name="upperBoundOffset"/>): marker at or after the fetch offset, data starting before the bound. Returns
    /// true when the search is complete (an entry's last stable offset passed the bound: no later segment can hold an
    /// overlapping transaction), as Kafka's TransactionIndex.collectAbortedTxns.
    /// </summary>
    public bool CollectAborted(long fetchOffset, long upperBoundOffset, List<AbortedTxn> into)
    {
        lock (_lock)
        {
            foreach (var e in _entries)
            {
                if (e.LastOffset >= fetchOffset && e.FirstOffset < upperBoundOffset) into.Add(e);
                if (e.LastStableOffset > upperBoundOffset) return true;
            }
            return false;
        }
    }

    public void Flush()
    {
        lock (_lock)
        {
            if (!_dirty || _handle is null) return;
            RandomAccess.FlushToDisk(_handle);
            _dirty = false;
        }
    }

    /// <summary>Renames the file (segment suffix changes); the handle stays open. A file never created is just renamed in memory.</summary>
    public void Rename(string path)
    {
        lock (_lock)
        {
            if (File.Exists(Path)) File.Move(Path, path, overwrite: true);
            Path = path;
        }
    }

    public void DeleteFile()
    {
        lock (_lock)
        {
            _handle?.Dispose();
            _handle = null;
            try { File.Delete(Path); }
            catch (IOException) { }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _handle?.Dispose();
            _handle = null;
        }
    }

    private static SafeFileHandle OpenHandle(string path) =>
        File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
}

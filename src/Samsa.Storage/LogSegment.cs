using System.Buffers;
using Microsoft.Win32.SafeHandles;
using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>Outcome of scanning a segment batch by batch.</summary>
internal readonly record struct SegmentScanResult(long ValidBytes, long TruncatedBytes, long NextOffset, string? Reason);

/// <summary>
/// One segment of a partition log: a ".log" file of concatenated v2 batches plus its offset and time indexes.
/// Invariants: batches are whole and back to back from position 0 to <see cref="Size"/>; offsets strictly increase;
/// every offset in the segment is ≥ <see cref="BaseOffset"/> and &lt; the next segment's base offset; the relative offset of
/// every batch fits in an int32.
/// Thread-safety: a single writer (the owning log, under its append lock) appends, truncates and renames; any number of
/// readers may call <see cref="Read"/>, <see cref="FindPosition"/> and the timestamp lookups concurrently, using
/// positional reads that never go past the published <see cref="Size"/>.
/// </summary>
internal sealed class LogSegment : IDisposable
{
    private const int ScanChunk = 64 * 1024;

    private readonly SafeFileHandle _log;
    private readonly int _indexIntervalBytes;
    private long _size;
    private int _bytesSinceLastIndexEntry;
    private long _maxTimestamp = -1;
    private long _offsetOfMaxTimestamp = -1;
    private long _nextOffset;

    private LogSegment(string dir, long baseOffset, int indexIntervalBytes, int maxIndexBytes, long createdMs, string suffix)
    {
        BaseOffset = baseOffset;
        _indexIntervalBytes = indexIntervalBytes;
        LogPath = FileNames.LogFile(dir, baseOffset) + suffix;
        _log = File.OpenHandle(LogPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        _size = RandomAccess.GetLength(_log);
        OffsetIndex = new OffsetIndex(FileNames.IndexFile(dir, baseOffset) + suffix, baseOffset, maxIndexBytes);
        TimeIndex = new TimeIndex(FileNames.TimeIndexFile(dir, baseOffset) + suffix, baseOffset, maxIndexBytes);
        TxnIndex = new TransactionIndex(FileNames.TxnIndexFile(dir, baseOffset) + suffix);
        CreatedMs = createdMs;
        _nextOffset = baseOffset;
        var last = TimeIndex.LastEntry;
        if (last.Timestamp >= 0) (_maxTimestamp, _offsetOfMaxTimestamp) = last;
    }

    public static LogSegment Open(string dir, long baseOffset, LogConfig config, long nowMs) =>
        new(dir, baseOffset, config.IndexIntervalBytes, config.SegmentIndexBytes, nowMs, "");

    /// <summary>
    /// Creates the ".cleaned" segment a cleaning pass writes into (leftovers of an earlier attempt are removed first).
    /// </summary>
    public static LogSegment CreateCleaned(string dir, long baseOffset, LogConfig config, long nowMs)
    {
        foreach (var path in new[] { FileNames.LogFile(dir, baseOffset), FileNames.IndexFile(dir, baseOffset), FileNames.TimeIndexFile(dir, baseOffset), FileNames.TxnIndexFile(dir, baseOffset) })
            File.Delete(path + FileNames.CleanedSuffix);
        return new LogSegment(dir, baseOffset, config.IndexIntervalBytes, config.SegmentIndexBytes, nowMs, FileNames.CleanedSuffix);
    }

    /// <summary>Opens a ".swap" segment left by an interrupted cleaning pass, for recovery.</summary>
    public static LogSegment OpenSwap(string dir, long baseOffset, LogConfig config, long nowMs) =>
        new(dir, baseOffset, config.IndexIntervalBytes, config.SegmentIndexBytes, nowMs, FileNames.SwapSuffix);

    public long BaseOffset { get; }
    public string LogPath { get; private set; }
    public OffsetIndex OffsetIndex { get; }
    public TimeIndex TimeIndex { get; }
    /// <summary>Aborted transactions whose ABORT marker is in this segment (".txnindex").</summary>
    public TransactionIndex TxnIndex { get; }
    /// <summary>When this segment was created or loaded, by the log's clock; segment.ms rolls are measured from it.</summary>
    public long CreatedMs { get; }
    public long Size => Volatile.Read(ref _size);
    public bool IsEmpty => Size == 0;
    public long MaxTimestamp => Volatile.Read(ref _maxTimestamp);
    public long OffsetOfMaxTimestamp => Volatile.Read(ref _offsetOfMaxTimestamp);

    /// <summary>One past the last offset. Exact for segments that were appended to or scanned since opening.</summary>
    public long NextOffset => Volatile.Read(ref _nextOffset);

    /// <summary>Largest timestamp for retention: the max batch timestamp, or the file's mtime when no batch has one.</summary>
    public long LargestTimestamp
    {
        get
        {
            long ts = MaxTimestamp;
            return ts >= 0 ? ts : new DateTimeOffset(File.GetLastWriteTimeUtc(LogPath)).ToUnixTimeMilliseconds();
        }
    }

    public bool IndexesAreSane() => OffsetIndex.IsSane(Size) && TimeIndex.IsSane(long.MaxValue);

    public bool IsFull(long extraBytes, long lastOffset, int segmentBytes) =>
        Size + extraBytes > segmentBytes || OffsetIndex.IsFull || TimeIndex.IsFull || lastOffset - BaseOffset > int.MaxValue;

    /// <summary>Appends whole batches whose offsets are already assigned; updates indexes. Caller holds the log's append lock.</summary>
    public void Append(ReadOnlySpan<byte> batches)
    {
        long position = _size;
        RandomAccess.Write(_log, batches, position);
        int at = 0;
        while (at < batches.Length)
        {
            var h = new RecordBatchHeader(batches[at..]);
            IndexBatch(h.LastOffset, h.MaxTimestamp, (int)(position + at), h.SizeInBytes);
            at += h.SizeInBytes;
        }
        Volatile.Write(ref _size, position + batches.Length);
    }

    private void IndexBatch(long lastOffset, long maxTimestamp, int position, int size)
    {
        if (maxTimestamp > _maxTimestamp)
        {
            Volatile.Write(ref _offsetOfMaxTimestamp, lastOffset);
            Volatile.Write(ref _maxTimestamp, maxTimestamp);
        }
        if (_bytesSinceLastIndexEntry > _indexIntervalBytes)
        {
            OffsetIndex.Append(lastOffset, position);
            TimeIndex.MaybeAppend(_maxTimestamp, _offsetOfMaxTimestamp);
            _bytesSinceLastIndexEntry = 0;
        }
        _bytesSinceLastIndexEntry += size;
        Volatile.Write(ref _nextOffset, lastOffset + 1);
    }

    /// <summary>Called when the segment stops being active: records its max timestamp as the final time index entry.</summary>
    public void OnBecomeInactive()
    {
        if (_maxTimestamp >= 0) TimeIndex.MaybeAppend(_maxTimestamp, _offsetOfMaxTimestamp, skipFullCheck: true);
    }

    /// <summary>
    /// Scans every batch from the start validating length, magic, CRC and offset monotonicity (offsets ≥
    /// <paramref name="minOffset"/>), rebuilds both indexes, and truncates the file at the first invalid batch.
    /// </summary>
    public SegmentScanResult Recover(long minOffset)
    {
        OffsetIndex.Reset();
        TimeIndex.Reset();
        _bytesSinceLastIndexEntry = 0;
        _maxTimestamp = -1;
        _offsetOfMaxTimestamp = -1;
        _nextOffset = BaseOffset;
        long expected = Math.Max(minOffset, BaseOffset);
        long fileSize = RandomAccess.GetLength(_log);
        var reader = new ChunkReader(_log, fileSize);
        long position = 0;
        string? reason = null;
        while (position < fileSize)
        {
            if (!reader.Ensure(position, RecordBatchLayout.HeaderSize))
            {
                reason = $"{fileSize - position} trailing bytes are too short for a batch header";
                break;
            }
            var header = reader.Span(position, RecordBatchLayout.HeaderSize);
            if (!BatchInfo.IsStructurallyValid(header, out reason)) break;
            var info = BatchInfo.From(header);
            if (!reader.Ensure(position, info.Size))
            {
                reason = $"batch at offset {info.BaseOffset} declares {info.Size} bytes but only {fileSize - position} remain";
                break;
            }
            var h = new RecordBatchHeader(reader.Span(position, info.Size));
            if (!h.IsCrcValid)
            {
                reason = $"CRC mismatch in batch at offset {info.BaseOffset}";
                break;
            }
            if (info.BaseOffset < expected || info.LastOffset - BaseOffset > int.MaxValue)
            {
                reason = $"batch base offset {info.BaseOffset} is below the expected {expected}";
                break;
            }
            IndexBatch(info.LastOffset, info.MaxTimestamp, (int)position, info.Size);
            expected = info.LastOffset + 1;
            position += info.Size;
            reason = null;
        }
        long truncated = fileSize - position;
        if (truncated > 0) RandomAccess.SetLength(_log, position);
        TxnIndex.TruncateTo(expected);
        Volatile.Write(ref _size, position);
        return new SegmentScanResult(position, truncated, expected, reason);
    }

    /// <summary>
    /// Position and header of the first batch whose last offset is ≥ <paramref name="offset"/>, starting from the index
    /// entry at or below it; null if no such batch is in the segment.
    /// </summary>
    public (int Position, BatchInfo Batch)? FindPosition(long offset)
    {
        long size = Size;
        var (_, position) = OffsetIndex.Lookup(offset);
        var reader = new ChunkReader(_log, size, 16 * 1024);
        long pos = position;
        while (pos + RecordBatchLayout.HeaderSize <= size)
        {
            if (!reader.Ensure(pos, RecordBatchLayout.HeaderSize)) return null;
            var info = BatchInfo.From(reader.Span(pos, RecordBatchLayout.HeaderSize));
            if (info.LastOffset >= offset) return ((int)pos, info);
            pos += info.Size;
        }
        return null;
    }

    /// <summary>
    /// Whole batches starting at the first batch containing or following <paramref name="startOffset"/>, up to
    /// <paramref name="maxBytes"/> (or one batch whatever its size when <paramref name="minOneBatch"/>), excluding any batch
    /// with an offset ≥ <paramref name="maxOffsetExclusive"/>. Null when the segment holds nothing at or after the offset.
    /// Without <paramref name="pool"/> the returned memory is a fresh array owned by the caller. With one, a non-empty
    /// result starts at index 0 of an array rented from <paramref name="pool"/> that the caller must return to it; an
    /// empty result or an exception leaves nothing rented.
    /// </summary>
    public ReadOnlyMemory<byte>? Read(long startOffset, int maxBytes, long maxOffsetExclusive, bool minOneBatch, ArrayPool<byte>? pool = null)
    {
        var start = FindPosition(startOffset);
        if (start is null) return null;
        var (position, first) = start.Value;
        if (first.LastOffset >= maxOffsetExclusive) return ReadOnlyMemory<byte>.Empty;
        bool single = first.Size > maxBytes;
        if (single && !minOneBatch) return ReadOnlyMemory<byte>.Empty;
        int length = single ? first.Size : (int)Math.Min(Size - position, maxBytes);
        var buffer = pool?.Rent(length) ?? new byte[length];
        int total = 0;
        try
        {
            int read = OffsetIndex.ReadFully(_log, buffer.AsSpan(0, length), position);
            if (single)
            {
                total = read == length ? length : 0;
            }
            else
            {
                while (total + RecordBatchLayout.HeaderSize <= read)
                {
                    var h = new RecordBatchHeader(buffer.AsSpan(total));
                    if (h.LastOffset >= maxOffsetExclusive || total + h.SizeInBytes > read || h.SizeInBytes <= 0) break;
                    total += h.SizeInBytes;
                }
            }
        }
        finally
        {
            if (total == 0) pool?.Return(buffer);
        }
        return total == 0 ? ReadOnlyMemory<byte>.Empty : buffer.AsMemory(0, total);
    }

    /// <summary>Reads the header of the batch at <paramref name="position"/>.</summary>
    public BatchInfo? ReadHeader(long position)
    {
        Span<byte> header = stackalloc byte[RecordBatchLayout.HeaderSize];
        if (position + header.Length > Size) return null;
        return OffsetIndex.ReadFully(_log, header, position) == header.Length ? BatchInfo.From(header) : null;
    }

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="position"/> into a fresh array.</summary>
    public byte[] ReadBytes(long position, int length)
    {
        var buffer = new byte[length];
        int n = OffsetIndex.ReadFully(_log, buffer, position);
        return n == length ? buffer : buffer[..n];
    }

    /// <summary>
    /// Visits batch headers from the one containing <paramref name="fromOffset"/> on, in order, while <paramref name="visit"/>
    /// returns true. Control batches come with their <see cref="BatchInfo.ControlType"/>.
    /// </summary>
    public void ForEachBatch(long fromOffset, Func<BatchInfo, bool> visit)
    {
        var start = FindPosition(fromOffset);
        if (start is null) return;
        long size = Size;
        var reader = new ChunkReader(_log, size);
        long pos = start.Value.Position;
        while (pos + RecordBatchLayout.HeaderSize <= size && reader.Ensure(pos, RecordBatchLayout.HeaderSize))
        {
            var info = BatchInfo.From(reader.Span(pos, RecordBatchLayout.HeaderSize));
            // Control batches are tiny; their type (COMMIT / ABORT) is needed to replay transactions.
            if (info.IsControl && info.Size > 0 && pos + info.Size <= size && reader.Ensure(pos, info.Size))
                info = info.WithControlType(reader.Span(pos, info.Size));
            if (!visit(info)) return;
            pos += info.Size;
        }
    }

    /// <summary>
    /// Removes every batch containing or following <paramref name="offset"/> (a batch straddling it goes whole) and
    /// rebuilds indexes. Returns the bytes removed.
    /// </summary>
    public long TruncateTo(long offset)
    {
        var start = FindPosition(offset);
        if (start is null) return 0;
        long removed = Size - start.Value.Position;
        RandomAccess.SetLength(_log, start.Value.Position);
        Recover(BaseOffset);
        return removed;
    }

    public void Flush()
    {
        RandomAccess.FlushToDisk(_log);
        OffsetIndex.Flush();
        TimeIndex.Flush();
        TxnIndex.Flush();
    }

    /// <summary>Renames the three files by appending <paramref name="suffix"/> (e.g. ".deleted"); handles stay open.</summary>
    public void AddSuffix(string suffix)
    {
        File.Move(LogPath, LogPath + suffix, overwrite: true);
        LogPath += suffix;
        OffsetIndex.Rename(OffsetIndex.Path + suffix);
        TimeIndex.Rename(TimeIndex.Path + suffix);
        TxnIndex.Rename(TxnIndex.Path + suffix);
    }

    /// <summary>
    /// Renames the three files from ending in <paramref name="from"/> (e.g. ".cleaned") to ending in <paramref name="to"/>
    /// (e.g. ".swap", or "" for the final names); handles stay open.
    /// </summary>
    public void ReplaceSuffix(string from, string to)
    {
        LogPath = Rename(LogPath, from, to);
        OffsetIndex.Rename(Rename(OffsetIndex.Path, from, to, move: false));
        TimeIndex.Rename(Rename(TimeIndex.Path, from, to, move: false));
        TxnIndex.Rename(Rename(TxnIndex.Path, from, to, move: false));
    }

    private static string Rename(string path, string from, string to, bool move = true)
    {
        if (!path.EndsWith(from, StringComparison.Ordinal))
            throw new InvalidOperationException($"{path} does not end with '{from}'.");
        string target = path[..^from.Length] + to;
        if (move) File.Move(path, target, overwrite: true);
        return target;
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes at <paramref name="position"/>, never past <see cref="Size"/>.</summary>
    public int ReadAt(long position, Span<byte> buffer)
    {
        long available = Size - position;
        if (available <= 0) return 0;
        if (buffer.Length > available) buffer = buffer[..(int)available];
        return OffsetIndex.ReadFully(_log, buffer, position);
    }

    public void DeleteFiles()
    {
        Dispose();
        TryDelete(LogPath);
        TryDelete(OffsetIndex.Path);
        TryDelete(TimeIndex.Path);
        TxnIndex.DeleteFile();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
    }

    public void Dispose()
    {
        _log.Dispose();
        OffsetIndex.Dispose();
        TimeIndex.Dispose();
        TxnIndex.Dispose();
    }

    public override string ToString() => $"LogSegment(baseOffset={BaseOffset}, size={Size})";

    /// <summary>Reads a file through a reusable window so header scans cost one syscall per chunk, not per batch.</summary>
    private sealed class ChunkReader(SafeFileHandle handle, long fileSize, int chunk = ScanChunk)
    {
        private byte[] _buffer = [];
        private long _start;
        private int _length;

        public bool Ensure(long position, int length)
        {
            if (position >= _start && position + length <= _start + _length) return true;
            if (position + length > fileSize) return false;
            int want = (int)Math.Min(Math.Max(length, chunk), fileSize - position);
            if (_buffer.Length < want) _buffer = new byte[want];
            _start = position;
            _length = OffsetIndex.ReadFully(handle, _buffer.AsSpan(0, want), position);
            return _length >= length;
        }

        public ReadOnlySpan<byte> Span(long position, int length) =>
            _buffer.AsSpan((int)(position - _start), length);
    }
}

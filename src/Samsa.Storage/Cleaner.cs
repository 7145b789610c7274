using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Samsa.Protocol.Records;

namespace Samsa.Storage;

/// <summary>
/// One cleaning pass over one log (Kafka's Cleaner.doClean):
/// 1. build the key → latest offset map over the dirty section [first dirty, first uncleanable), stopping early when
///    the map is full (the pass then ends where the map ends);
/// 2. rewrite every closed segment below that end, in groups that fit one segment, keeping a record only if it is the
///    latest for its key (offsets preserved, gaps appear), dropping keyless records, keeping tombstones until their
///    batch's delete horizon, keeping the last batch of each live producer (possibly emptied); data of aborted
///    transactions is dropped and transaction markers go once their transaction has no data left and their delete
///    horizon passed (<see cref="CleanerTransactions"/>); the cleaned segment gets the ".txnindex" entries still needed;
/// 3. swap each group in with the crash-safe protocol: write "&lt;base&gt;.log.cleaned" + indexes, fsync, rename to
///    ".swap", rename the old segments to ".deleted", rename ".swap" to the final names (LogRecovery completes or rolls
///    back a pass interrupted at any step).
/// Not thread-safe: one instance per cleaner thread (it owns the offset map and buffers).
/// </summary>
internal sealed class Cleaner(OffsetMap map, CleanerThrottle throttle, int ioBufferSize, TimeProvider time, ILogger logger)
{
    private readonly ArrayBufferWriter<byte> _output = new(256 * 1024);
    private readonly ArrayBufferWriter<byte> _scratch = new(64 * 1024);
    private readonly List<Record> _records = new();
    private readonly List<Record> _retained = new();
    private byte[] _readBuffer = new byte[Math.Max(ioBufferSize, 64 * 1024)];

    /// <summary>Called after each step of the swap protocol; tests throw from it to simulate a crash at that point.</summary>
    public Action<CleanerStep>? Fault { get; set; }

    public CleanerStats Clean(PartitionLog log, CleanableSection section, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.StartNew();
        long now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var config = log.Config;
        var segments = log.SegmentsSnapshot;
        long bytesRead = 0;

        // 1. Offset map over the dirty section.
        map.Clear();
        long firstDirty = section.FirstDirtyOffset;
        long endOffset = firstDirty;
        bool full = false;
        var mapTxns = new CleanerTransactions(log.CollectAbortedTransactions(firstDirty, section.FirstUncleanableOffset));
        for (int i = 0; i < segments.Length - 1 && !full; i++)
        {
            var segment = segments[i];
            if (segment.BaseOffset >= section.FirstUncleanableOffset) break;
            if (segments[i + 1].BaseOffset <= firstDirty) continue;
            bytesRead += ForEachBatch(segment, batch =>
            {
                var h = new RecordBatchHeader(batch.Span);
                if (h.LastOffset < firstDirty) return true;
                if (h.LastOffset >= section.FirstUncleanableOffset) return false;
                if (h.IsControl) mapTxns.CanDiscardControl(batch.Span);
                // Aborted data never supersedes a committed value.
                else if (!mapTxns.IsAbortedData(h))
                {
                    if (map.Count + h.RecordCount > map.MaxEntries)
                    {
                        full = true;
                        return false;
                    }
                    ReadRecords(batch);
                    foreach (var r in _records)
                        if (r.Key is { } key) map.Put(key.Span, h.BaseOffset + r.OffsetDelta);
                }
                map.UpdateLatestOffset(h.LastOffset);
                endOffset = h.LastOffset + 1;
                return true;
            }, cancellationToken);
        }
        if (full && endOffset == firstDirty)
            throw new InvalidOperationException(
                $"The cleaner's offset map ({map.MaxEntries} entries) cannot hold one batch of {log}; raise log.cleaner.dedupe.buffer.size.");

        // 2 + 3. Rewrite closed segments below the end, group by group.
        var producers = log.ActiveProducerLastOffsets();
        var toClean = new List<LogSegment>();
        for (int i = 0; i < segments.Length - 1 && segments[i].BaseOffset < endOffset; i++) toClean.Add(segments[i]);
        long bytesWritten = 0, recordsRead = 0, recordsRetained = 0, latestHorizon = -1;
        int cleanedSegments = 0;
        foreach (var group in GroupBySize(toClean, segments, config))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var cleaned = LogSegment.CreateCleaned(log.Directory, group[0].BaseOffset, config, now);
            int last = Array.IndexOf(segments, group[^1]);
            long groupEnd = last + 1 < segments.Length ? segments[last + 1].BaseOffset : group[^1].NextOffset;
            var txns = new CleanerTransactions(log.CollectAbortedTransactions(group[0].BaseOffset, groupEnd));
            bool swapOnDisk = false;
            try
            {
                foreach (var source in group)
                {
                    bytesRead += ForEachBatch(source, batch =>
                    {
                        var (read, kept, horizon) = Filter(batch, config, producers, txns, now);
                        recordsRead += read;
                        recordsRetained += kept;
                        latestHorizon = Math.Max(latestHorizon, horizon);
                        if (_output.WrittenCount >= ioBufferSize) bytesWritten += FlushOutput(cleaned);
                        return true;
                    }, cancellationToken);
                }
                bytesWritten += FlushOutput(cleaned);
                foreach (var txn in txns.RetainedIndexEntries) cleaned.TxnIndex.Append(txn);
                cleaned.OnBecomeInactive();
                cleaned.Flush();
                Fault?.Invoke(CleanerStep.CleanedWritten);
                cleaned.ReplaceSuffix(FileNames.CleanedSuffix, FileNames.SwapSuffix);
                DurableFile.FsyncDirectory(log.Directory);
                // From here on the swap file is the truth on disk: recovery completes it, so a failure must not delete it.
                swapOnDisk = true;
                Fault?.Invoke(CleanerStep.SwapRenamed);
                if (!log.ReplaceSegments(cleaned, group, Fault))
                {
                    logger.LogInformation("Cleaning of {Log} abandoned: its segments changed during the pass", log);
                    cleaned.DeleteFiles();
                    throw new OperationCanceledException("The log's segments changed during cleaning.");
                }
                cleanedSegments += group.Count;
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException && !swapOnDisk)
            {
                _output.ResetWrittenCount();
                cleaned.DeleteFiles();
                throw;
            }
        }
        var stats = new CleanerStats(firstDirty, endOffset, bytesRead, bytesWritten, recordsRead, recordsRetained, cleanedSegments,
            map.Count, started.Elapsed);
        log.OnCleaned(endOffset, latestHorizon, stats);
        return stats;
    }

    /// <summary>
    /// Filters one batch into the output buffer. Returns (records read, records kept, delete horizon of the written batch
    /// if it holds tombstones, else -1).
    /// </summary>
    private (int Read, int Kept, long Horizon) Filter(ReadOnlyMemory<byte> memory, LogConfig config, Dictionary<long, long> producers,
        CleanerTransactions txns, long now)
    {
        var batch = memory.Span;
        var h = new RecordBatchHeader(batch);
        bool hasHorizon = BatchRewriter.HasDeleteHorizon(h);
        if (h.IsControl)
        {
            // A transaction marker goes only once no data of its transaction remains and its delete horizon has passed
            // (set by the pass that first finds it discardable), as Kafka.
            bool canDiscard = txns.CanDiscardControl(batch);
            if (canDiscard && hasHorizon && now >= h.BaseTimestamp) return (h.RecordCount, 0, -1);
            if (canDiscard && !hasHorizon && h.RecordCount > 0)
            {
                ReadRecords(memory);
                long markerHorizon = SaturatingAdd(now, config.DeleteRetentionMs);
                BatchRewriter.WriteRetained(batch, _records, markerHorizon, _output, _scratch);
                return (h.RecordCount, h.RecordCount, markerHorizon);
            }
            _output.Write(batch);
            return (h.RecordCount, h.RecordCount, canDiscard && hasHorizon ? h.BaseTimestamp : -1);
        }
        if (txns.IsAbortedData(h))
        {
            // Aborted records are never exposed by compaction; a live producer's last batch stays as an empty header.
            if (h.HasProducerId && producers.TryGetValue(h.ProducerId, out long lastOfProducer) && lastOfProducer == h.LastOffset)
                BatchRewriter.WriteEmpty(batch, _output);
            return (h.RecordCount, 0, -1);
        }
        long horizon = hasHorizon ? h.BaseTimestamp : -1;
        bool retainTombstones = !hasHorizon || now < horizon;
        ReadRecords(memory);
        _retained.Clear();
        bool keptTombstone = false;
        foreach (var r in _records)
        {
            if (r.Key is not { } key) continue;
            long offset = h.BaseOffset + r.OffsetDelta;
            if (offset < map.Get(key.Span)) continue;
            if (r.Value is null)
            {
                if (!retainTombstones) continue;
                keptTombstone = true;
            }
            _retained.Add(r);
        }
        int read = _records.Count;
        if (_retained.Count == read && (!keptTombstone || hasHorizon))
        {
            _output.Write(batch);
            return (read, read, keptTombstone ? horizon : -1);
        }
        if (_retained.Count > 0)
        {
            long newHorizon = keptTombstone ? (hasHorizon ? horizon : SaturatingAdd(now, config.DeleteRetentionMs)) : -1;
            BatchRewriter.WriteRetained(batch, _retained, newHorizon, _output, _scratch);
            return (read, _retained.Count, newHorizon);
        }
        if (h.HasProducerId && producers.TryGetValue(h.ProducerId, out long last) && last == h.LastOffset)
            BatchRewriter.WriteEmpty(batch, _output);
        return (read, 0, -1);
    }

    private static long SaturatingAdd(long a, long b) => b > long.MaxValue - a ? long.MaxValue : a + b;

    private void ReadRecords(ReadOnlyMemory<byte> batch)
    {
        _records.Clear();
        var error = new RecordBatch(batch).TryReadRecords(_records);
        if (error != RecordBatchError.None)
            throw new IOException($"Cannot read the records of the batch at offset {new RecordBatchHeader(batch.Span).BaseOffset}: {error}.");
    }

    private long FlushOutput(LogSegment cleaned)
    {
        int n = _output.WrittenCount;
        if (n == 0) return 0;
        cleaned.Append(_output.WrittenSpan);
        _output.ResetWrittenCount();
        throttle.Acquire(n);
        return n;
    }

    /// <summary>
    /// Visits whole batches of <paramref name="segment"/> through a reusable read buffer, while <paramref name="visit"/>
    /// returns true. The memory passed is valid only during the call. Returns the bytes read.
    /// </summary>
    private long ForEachBatch(LogSegment segment, Func<ReadOnlyMemory<byte>, bool> visit, CancellationToken cancellationToken)
    {
        long size = segment.Size;
        long position = 0, total = 0;
        while (position < size)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = segment.ReadAt(position, _readBuffer);
            if (n < RecordBatchLayout.HeaderSize) throw new IOException($"Truncated batch at position {position} of {segment}.");
            total += n;
            throttle.Acquire(n, cancellationToken);
            int at = 0, pending = 0;
            while (at + RecordBatchLayout.HeaderSize <= n)
            {
                int batchSize = new RecordBatchHeader(_readBuffer.AsSpan(at)).SizeInBytes;
                if (batchSize < RecordBatchLayout.HeaderSize || position + at + batchSize > size)
                    throw new IOException($"Invalid batch size {batchSize} at position {position + at} of {segment}.");
                if (at + batchSize > n)
                {
                    pending = batchSize;
                    break;
                }
                if (!visit(_readBuffer.AsMemory(at, batchSize))) return total;
                at += batchSize;
            }
            // A batch larger than the buffer: grow it and read again from the batch.
            if (at == 0) _readBuffer = new byte[Math.Max(pending, _readBuffer.Length * 2)];
            position += at;
        }
        return total;
    }

    /// <summary>
    /// Consecutive segments merged while the result fits one segment (segment.bytes) and every offset stays within
    /// int32 of the group's base offset (Kafka's groupSegmentsBySize).
    /// </summary>
    private static List<List<LogSegment>> GroupBySize(List<LogSegment> toClean, LogSegment[] all, LogConfig config)
    {
        var groups = new List<List<LogSegment>>();
        int i = 0;
        while (i < toClean.Count)
        {
            var group = new List<LogSegment> { toClean[i] };
            long size = toClean[i].Size;
            i++;
            while (i < toClean.Count)
            {
                int index = Array.IndexOf(all, toClean[i]);
                long nextBase = index + 1 < all.Length ? all[index + 1].BaseOffset : toClean[i].NextOffset;
                if (size + toClean[i].Size > config.SegmentBytes || nextBase - 1 - group[0].BaseOffset > int.MaxValue) break;
                size += toClean[i].Size;
                group.Add(toClean[i]);
                i++;
            }
            groups.Add(group);
        }
        return groups;
    }
}

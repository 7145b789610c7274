using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Samsa.Storage;

/// <summary>Segments of a partition directory after loading and recovery, in base offset order (never empty).</summary>
internal sealed record LoadedLog(List<LogSegment> Segments, long LogStartOffset, bool HadCleanShutdown);

/// <summary>
/// Loads a partition directory: removes leftovers of interrupted operations, opens segments, rebuilds missing or
/// corrupt indexes and validates batches. After a clean shutdown only the last segment is scanned; after an unclean one
/// every segment is. The first invalid batch (bad length, magic, CRC, or offsets going backwards) ends the log: the
/// segment is truncated there and any later segment is deleted.
/// </summary>
internal static class LogRecovery
{
    public static LoadedLog Load(string dir, string name, LogConfig config, long nowMs, ILogger logger)
    {
        Directory.CreateDirectory(dir);
        string marker = Path.Combine(dir, FileNames.CleanShutdownFile);
        bool clean = File.Exists(marker);
        // Removed now so a crash before the next clean close is seen as unclean.
        if (clean) File.Delete(marker);

        RemoveLeftovers(dir, name, config, nowMs, logger);
        long checkpointedStart = ReadLogStartOffset(dir);

        var baseOffsets = Directory.EnumerateFiles(dir, "*" + FileNames.LogSuffix)
            .Select(p => FileNames.TryParseOffset(Path.GetFileName(p), FileNames.LogSuffix, out long o) ? o : -1)
            .Where(o => o >= 0)
            .Order()
            .ToList();
        DeleteOrphanIndexes(dir, baseOffsets);

        var segments = new List<LogSegment>(baseOffsets.Count);
        long expected = 0;
        for (int i = 0; i < baseOffsets.Count; i++)
        {
            long baseOffset = baseOffsets[i];
            bool last = i == baseOffsets.Count - 1;
            bool indexMissing = !File.Exists(FileNames.IndexFile(dir, baseOffset)) || !File.Exists(FileNames.TimeIndexFile(dir, baseOffset));
            var segment = LogSegment.Open(dir, baseOffset, config, nowMs);
            segments.Add(segment);
            bool scan = !clean || last || indexMissing || !segment.IndexesAreSane();
            if (!scan)
            {
                expected = baseOffsets[i + 1];
                continue;
            }
            if (clean && !last)
                logger.LogInformation("Rebuilding the indexes of segment {Segment} of {Partition}", baseOffset, name);
            var result = segment.Recover(expected);
            expected = result.NextOffset;
            if (result.TruncatedBytes > 0)
            {
                logger.LogWarning(
                    "Truncated {Bytes} bytes at position {Position} of segment {Segment} of {Partition} (offsets from {Offset} on are gone): {Reason}",
                    result.TruncatedBytes, result.ValidBytes, baseOffset, name, result.NextOffset, result.Reason);
            }
            bool truncatedOrGap = result.TruncatedBytes > 0 || (!last && result.NextOffset > baseOffsets[i + 1]);
            if (truncatedOrGap && !last)
            {
                // Everything after a corrupt batch is unreachable by offset order: later segments go too.
                for (int j = i + 1; j < baseOffsets.Count; j++)
                {
                    logger.LogWarning("Deleting segment {Segment} of {Partition}: it follows a truncated segment", baseOffsets[j], name);
                    DeleteSegmentFiles(dir, baseOffsets[j]);
                }
                break;
            }
        }

        if (segments.Count > 0 && segments[0].BaseOffset > checkpointedStart) checkpointedStart = segments[0].BaseOffset;
        if (segments.Count == 0 || (segments.Count == 1 && segments[0].IsEmpty && segments[0].BaseOffset < checkpointedStart))
        {
            foreach (var s in segments) s.DeleteFiles();
            segments.Clear();
            segments.Add(LogSegment.Open(dir, Math.Max(0, checkpointedStart), config, nowMs));
        }
        long logStart = Math.Max(checkpointedStart, segments[0].BaseOffset);
        return new LoadedLog(segments, logStart, clean);
    }

    /// <summary>
    /// Removes temporary files and completes interrupted cleaner swaps, following Kafka's LogLoader rules:
    /// ".deleted" and ".tmp" files go; ".cleaned" files go (the pass had not reached the swap step), and so does any
    /// ".swap" at or above the smallest ".cleaned" base offset (part of an operation that never finished writing);
    /// every other ".swap" segment is complete and fsynced, so the original segments overlapping its offsets are deleted
    /// and it is renamed to its final name (its indexes are rebuilt by the scan that follows).
    /// </summary>
    private static void RemoveLeftovers(string dir, string name, LogConfig config, long nowMs, ILogger logger)
    {
        long minCleaned = long.MaxValue;
        var swaps = new List<long>();
        foreach (var path in Directory.EnumerateFiles(dir))
        {
            string file = Path.GetFileName(path);
            if (file.EndsWith(FileNames.DeletedSuffix, StringComparison.Ordinal) ||
                file.EndsWith(FileNames.TmpSuffix, StringComparison.Ordinal))
            {
                File.Delete(path);
            }
            else if (file.EndsWith(FileNames.CleanedSuffix, StringComparison.Ordinal))
            {
                if (FileNames.TryParseOffset(file[..^FileNames.CleanedSuffix.Length], FileNames.LogSuffix, out long o)) minCleaned = Math.Min(minCleaned, o);
                File.Delete(path);
            }
            else if (file.EndsWith(FileNames.SwapSuffix, StringComparison.Ordinal))
            {
                string stem = file[..^FileNames.SwapSuffix.Length];
                if (FileNames.TryParseOffset(stem, FileNames.LogSuffix, out long o)) swaps.Add(o);
                // The aborted-transaction index of a swap goes with it (below); it is not rebuildable from the segment alone.
                else if (!stem.EndsWith(FileNames.TxnIndexSuffix, StringComparison.Ordinal)) File.Delete(path); // a swap index: rebuilt from the log after the swap completes
            }
        }
        swaps.Sort();
        foreach (long baseOffset in swaps)
        {
            string swapPath = FileNames.LogFile(dir, baseOffset) + FileNames.SwapSuffix;
            if (baseOffset >= minCleaned)
            {
                logger.LogWarning("Deleting swap segment {Segment} of {Partition}: an interrupted cleaning left .cleaned files below it", baseOffset, name);
                File.Delete(swapPath);
                File.Delete(FileNames.TxnIndexFile(dir, baseOffset) + FileNames.SwapSuffix);
                continue;
            }
            long next;
            using (var swap = LogSegment.OpenSwap(dir, baseOffset, config, nowMs))
            {
                next = swap.Recover(baseOffset).NextOffset;
            }
            File.Delete(FileNames.IndexFile(dir, baseOffset) + FileNames.SwapSuffix);
            File.Delete(FileNames.TimeIndexFile(dir, baseOffset) + FileNames.SwapSuffix);
            // The swap replaces the segments whose base offsets fall in its range (always the one at its own base).
            long end = Math.Max(next, baseOffset + 1);
            foreach (var path in Directory.EnumerateFiles(dir, "*" + FileNames.LogSuffix))
            {
                if (FileNames.TryParseOffset(Path.GetFileName(path), FileNames.LogSuffix, out long o) && o >= baseOffset && o < end)
                {
                    logger.LogInformation("Deleting segment {Segment} of {Partition}: replaced by the cleaned swap segment {Swap}", o, name, baseOffset);
                    DeleteSegmentFiles(dir, o);
                }
            }
            File.Move(swapPath, FileNames.LogFile(dir, baseOffset));
            string txnSwap = FileNames.TxnIndexFile(dir, baseOffset) + FileNames.SwapSuffix;
            if (File.Exists(txnSwap)) File.Move(txnSwap, FileNames.TxnIndexFile(dir, baseOffset), overwrite: true);
            logger.LogWarning("Completed the interrupted swap of cleaned segment {Segment} of {Partition} (offsets up to {Next})", baseOffset, name, next);
        }
        if (swaps.Count > 0) DurableFile.FsyncDirectory(dir);
    }

    private static void DeleteOrphanIndexes(string dir, List<long> baseOffsets)
    {
        var known = baseOffsets.ToHashSet();
        foreach (var suffix in new[] { FileNames.IndexSuffix, FileNames.TimeIndexSuffix, FileNames.TxnIndexSuffix })
        {
            foreach (var path in Directory.EnumerateFiles(dir, "*" + suffix))
            {
                if (FileNames.TryParseOffset(Path.GetFileName(path), suffix, out long o) && !known.Contains(o)) File.Delete(path);
            }
        }
    }

    private static void DeleteSegmentFiles(string dir, long baseOffset)
    {
        File.Delete(FileNames.LogFile(dir, baseOffset));
        File.Delete(FileNames.IndexFile(dir, baseOffset));
        File.Delete(FileNames.TimeIndexFile(dir, baseOffset));
        File.Delete(FileNames.TxnIndexFile(dir, baseOffset));
    }

    /// <summary>The persisted log start offset (advanced by DeleteRecords), or 0.</summary>
    public static long ReadLogStartOffset(string dir)
    {
        string path = Path.Combine(dir, FileNames.LogStartOffsetCheckpointFile);
        if (!File.Exists(path)) return 0;
        var lines = File.ReadAllLines(path);
        if (lines.Length < 3 || lines[0].Trim() != "0") return 0;
        var parts = lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length > 0 && long.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
    }

    /// <summary>Kafka's checkpoint text format ("0", entry count, "topic partition offset"), one entry per partition dir.</summary>
    public static void WriteLogStartOffset(string dir, string topic, int partition, long offset) =>
        DurableFile.WriteAtomically(Path.Combine(dir, FileNames.LogStartOffsetCheckpointFile),
            string.Create(CultureInfo.InvariantCulture, $"0\n1\n{topic} {partition} {offset}\n"));
}

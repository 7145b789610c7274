using System.Globalization;

namespace Samsa.Storage;

/// <summary>Kafka's file naming in a partition directory: files are named by the 20-digit base offset of their segment.</summary>
internal static class FileNames
{
    public const string LogSuffix = ".log";
    public const string IndexSuffix = ".index";
    public const string TimeIndexSuffix = ".timeindex";
    public const string SnapshotSuffix = ".snapshot";
    public const string TxnIndexSuffix = ".txnindex";
    public const string DeletedSuffix = ".deleted";
    public const string CleanedSuffix = ".cleaned";
    public const string SwapSuffix = ".swap";
    public const string TmpSuffix = ".tmp";
    public const string CleanShutdownFile = ".kafka_cleanshutdown";
    public const string LeaderEpochCheckpointFile = "leader-epoch-checkpoint";
    public const string PartitionMetadataFile = "partition.metadata";
    /// <summary>Samsa keeps the log start offset per partition (Kafka keeps one log-start-offset-checkpoint per log dir).</summary>
    public const string LogStartOffsetCheckpointFile = "log-start-offset-checkpoint";

    public static string OffsetPrefix(long offset) => offset.ToString("D20", CultureInfo.InvariantCulture);

    public static string LogFile(string dir, long baseOffset) => Path.Combine(dir, OffsetPrefix(baseOffset) + LogSuffix);
    public static string IndexFile(string dir, long baseOffset) => Path.Combine(dir, OffsetPrefix(baseOffset) + IndexSuffix);
    public static string TimeIndexFile(string dir, long baseOffset) => Path.Combine(dir, OffsetPrefix(baseOffset) + TimeIndexSuffix);
    public static string TxnIndexFile(string dir, long baseOffset) => Path.Combine(dir, OffsetPrefix(baseOffset) + TxnIndexSuffix);
    public static string SnapshotFile(string dir, long offset) => Path.Combine(dir, OffsetPrefix(offset) + SnapshotSuffix);

    /// <summary>Parses the base offset out of "00000000000000000042.log" style names.</summary>
    public static bool TryParseOffset(string fileName, string suffix, out long offset)
    {
        offset = 0;
        if (!fileName.EndsWith(suffix, StringComparison.Ordinal)) return false;
        var stem = fileName.AsSpan(0, fileName.Length - suffix.Length);
        return stem.Length == 20 && long.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }

    public static string PartitionDirName(string topic, int partition) =>
        topic + "-" + partition.ToString(CultureInfo.InvariantCulture);

    /// <summary>Splits "my-topic-3" at the last dash.</summary>
    public static bool TryParsePartitionDir(string dirName, out string topic, out int partition)
    {
        topic = "";
        partition = -1;
        int dash = dirName.LastIndexOf('-');
        if (dash <= 0 || dash == dirName.Length - 1) return false;
        if (!int.TryParse(dirName.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out partition)) return false;
        topic = dirName[..dash];
        return true;
    }
}

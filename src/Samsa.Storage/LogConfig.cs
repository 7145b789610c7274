using System.Globalization;

namespace Samsa.Storage;

/// <summary>Topic-level log configuration, named and defaulted as Kafka's topic configs.</summary>
public sealed record LogConfig
{
    public const string SegmentBytesKey = "segment.bytes";
    public const string SegmentMsKey = "segment.ms";
    public const string RetentionMsKey = "retention.ms";
    public const string RetentionBytesKey = "retention.bytes";
    public const string MaxMessageBytesKey = "max.message.bytes";
    public const string MessageTimestampTypeKey = "message.timestamp.type";
    public const string CleanupPolicyKey = "cleanup.policy";
    public const string MinInSyncReplicasKey = "min.insync.replicas";
    public const string IndexIntervalBytesKey = "index.interval.bytes";
    public const string SegmentIndexBytesKey = "segment.index.bytes";
    public const string FlushMessagesKey = "flush.messages";
    public const string FlushMsKey = "flush.ms";
    public const string FileDeleteDelayMsKey = "file.delete.delay.ms";
    public const string MinCleanableDirtyRatioKey = "min.cleanable.dirty.ratio";
    public const string MinCompactionLagMsKey = "min.compaction.lag.ms";
    public const string MaxCompactionLagMsKey = "max.compaction.lag.ms";
    public const string DeleteRetentionMsKey = "delete.retention.ms";

    public static LogConfig Default { get; } = new();

    /// <summary>Largest size of one segment file before a new one is rolled (segment.bytes).</summary>
    public int SegmentBytes { get; init; } = 1024 * 1024 * 1024;
    public long SegmentMs { get; init; } = 7L * 24 * 60 * 60 * 1000;
    /// <summary>-1 means unlimited.</summary>
    public long RetentionMs { get; init; } = 7L * 24 * 60 * 60 * 1000;
    /// <summary>-1 means unlimited.</summary>
    public long RetentionBytes { get; init; } = -1;
    public int MaxMessageBytes { get; init; } = 1048588;
    public bool LogAppendTime { get; init; }
    public bool CleanupDelete { get; init; } = true;
    public bool CleanupCompact { get; init; }
    public int MinInSyncReplicas { get; init; } = 1;
    public int IndexIntervalBytes { get; init; } = 4096;
    public int SegmentIndexBytes { get; init; } = 10 * 1024 * 1024;
    public long FlushMessages { get; init; } = long.MaxValue;
    public long FlushMs { get; init; } = long.MaxValue;
    public long FileDeleteDelayMs { get; init; } = 60_000;
    /// <summary>Compaction: a log is cleaned when dirty bytes / (clean + dirty bytes) reaches this ratio.</summary>
    public double MinCleanableDirtyRatio { get; init; } = 0.5;
    /// <summary>Compaction: records newer than this are never compacted.</summary>
    public long MinCompactionLagMs { get; init; }
    /// <summary>Compaction: a dirty record older than this makes the log cleanable whatever its dirty ratio.</summary>
    public long MaxCompactionLagMs { get; init; } = long.MaxValue;
    /// <summary>Compaction: how long a tombstone (null value) survives after the cleaning pass that first saw it.</summary>
    public long DeleteRetentionMs { get; init; } = 24L * 60 * 60 * 1000;

    /// <summary>
    /// Builds a config from Kafka-style string properties over <paramref name="baseConfig"/> (or the defaults).
    /// Unknown keys are ignored (the broker validates names); a bad value throws <see cref="ArgumentException"/> naming the key.
    /// </summary>
    public static LogConfig Parse(IReadOnlyDictionary<string, string?> properties, LogConfig? baseConfig = null)
    {
        var c = baseConfig ?? Default;
        foreach (var (key, raw) in properties)
        {
            if (raw is null) continue;
            string value = raw.Trim();
            c = key switch
            {
                SegmentBytesKey => c with { SegmentBytes = ParseInt(key, value, 14) },
                SegmentMsKey => c with { SegmentMs = ParseLong(key, value, 1) },
                RetentionMsKey => c with { RetentionMs = ParseLong(key, value, -1) },
                RetentionBytesKey => c with { RetentionBytes = ParseLong(key, value, -1) },
                MaxMessageBytesKey => c with { MaxMessageBytes = ParseInt(key, value, 0) },
                MessageTimestampTypeKey => c with { LogAppendTime = ParseTimestampType(key, value) },
                CleanupPolicyKey => ParseCleanupPolicy(c, key, value),
                MinInSyncReplicasKey => c with { MinInSyncReplicas = ParseInt(key, value, 1) },
                IndexIntervalBytesKey => c with { IndexIntervalBytes = ParseInt(key, value, 0) },
                SegmentIndexBytesKey => c with { SegmentIndexBytes = ParseInt(key, value, 8) },
                FlushMessagesKey => c with { FlushMessages = ParseLong(key, value, 1) },
                FlushMsKey => c with { FlushMs = ParseLong(key, value, 0) },
                FileDeleteDelayMsKey => c with { FileDeleteDelayMs = ParseLong(key, value, 0) },
                MinCleanableDirtyRatioKey => c with { MinCleanableDirtyRatio = ParseRatio(key, value) },
                MinCompactionLagMsKey => c with { MinCompactionLagMs = ParseLong(key, value, 0) },
                MaxCompactionLagMsKey => c with { MaxCompactionLagMs = ParseLong(key, value, 1) },
                DeleteRetentionMsKey => c with { DeleteRetentionMs = ParseLong(key, value, 0) },
                _ => c,
            };
        }
        return c;
    }

    private static int ParseInt(string key, string value, int min)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v))
            throw new ArgumentException($"Invalid value '{value}' for configuration {key}: not an int.", key);
        if (v < min)
            throw new ArgumentException($"Invalid value {v} for configuration {key}: must be at least {min}.", key);
        return v;
    }

    private static long ParseLong(string key, string value, long min)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            throw new ArgumentException($"Invalid value '{value}' for configuration {key}: not a long.", key);
        if (v < min)
            throw new ArgumentException($"Invalid value {v} for configuration {key}: must be at least {min}.", key);
        return v;
    }

    private static double ParseRatio(string key, string value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v))
            throw new ArgumentException($"Invalid value '{value}' for configuration {key}: not a number.", key);
        if (v is < 0 or > 1)
            throw new ArgumentException($"Invalid value {v} for configuration {key}: must be between 0 and 1.", key);
        return v;
    }

    private static bool ParseTimestampType(string key, string value) => value switch
    {
        "CreateTime" => false,
        "LogAppendTime" => true,
        _ => throw new ArgumentException($"Invalid value '{value}' for configuration {key}: expected CreateTime or LogAppendTime.", key),
    };

    private static LogConfig ParseCleanupPolicy(LogConfig c, string key, string value)
    {
        bool delete = false, compact = false;
        foreach (var part in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "delete") delete = true;
            else if (part == "compact") compact = true;
            else throw new ArgumentException($"Invalid value '{value}' for configuration {key}: expected delete and/or compact.", key);
        }
        if (!delete && !compact)
            throw new ArgumentException($"Invalid value '{value}' for configuration {key}: empty.", key);
        return c with { CleanupDelete = delete, CleanupCompact = compact };
    }
}

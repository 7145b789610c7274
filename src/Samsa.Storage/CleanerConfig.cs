namespace Samsa.Storage;

/// <summary>Broker-level settings of the log cleaner (Kafka's log.cleaner.* broker configs).</summary>
public sealed record CleanerConfig
{
    public static CleanerConfig Default { get; } = new();

    /// <summary>log.cleaner.enable.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>log.cleaner.threads (0 = no background cleaning).</summary>
    public int Threads { get; init; } = 1;
    /// <summary>log.cleaner.dedupe.buffer.size: memory of the key maps, divided among the threads.</summary>
    public long DedupeBufferSize { get; init; } = 128L * 1024 * 1024;
    /// <summary>log.cleaner.backoff.ms: sleep when no log needs cleaning.</summary>
    public long BackoffMs { get; init; } = 15_000;
    /// <summary>log.cleaner.io.max.bytes.per.second (read + write); double.MaxValue = unthrottled.</summary>
    public double IoMaxBytesPerSecond { get; init; } = double.MaxValue;
    /// <summary>Read chunk of the cleaner (log.cleaner.io.buffer.size).</summary>
    public int IoBufferSize { get; init; } = 512 * 1024;
}

/// <summary>Step of the swap protocol just completed, for fault injection in tests.</summary>
public enum CleanerStep
{
    /// <summary>The ".cleaned" segment is written and fsynced.</summary>
    CleanedWritten,
    /// <summary>".cleaned" files renamed to ".swap".</summary>
    SwapRenamed,
    /// <summary>The replaced segments renamed to ".deleted".</summary>
    OldRenamedToDeleted,
    /// <summary>".swap" files renamed to their final names.</summary>
    SwapRenamedToFinal,
}

/// <summary>Statistics of one cleaning pass of one partition.</summary>
public sealed record CleanerStats(
    long FirstDirtyOffset,
    long EndOffset,
    long BytesRead,
    long BytesWritten,
    long RecordsRead,
    long RecordsRetained,
    int SegmentsCleaned,
    int KeysInMap,
    TimeSpan Duration)
{
    public double MegabytesPerSecond => Duration.TotalSeconds > 0 ? BytesRead / 1e6 / Duration.TotalSeconds : 0;
}

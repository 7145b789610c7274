using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using Samsa.Protocol.Records;

namespace Samsa.Storage.Tests;

/// <summary>Builds valid uncompressed v2 batches by hand (test-only; production uses RecordBatchBuilder).</summary>
internal static class TestBatches
{
    public static byte[] Build(int recordCount, long timestamp = 1_000, int valueSize = 10, long producerId = -1,
        short producerEpoch = -1, int baseSequence = -1, long baseOffset = 0, byte fill = 0xAB)
    {
        var records = new List<byte>();
        for (int i = 0; i < recordCount; i++)
        {
            var body = new List<byte> { 0 };
            WriteVarLong(body, 0);
            WriteVarLong(body, i);
            WriteVarLong(body, -1);
            WriteVarLong(body, valueSize);
            for (int b = 0; b < valueSize; b++) body.Add(fill);
            WriteVarLong(body, 0);
            WriteVarLong(records, body.Count);
            records.AddRange(body);
        }
        var batch = new byte[RecordBatchLayout.HeaderSize + records.Count];
        var s = batch.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(s, baseOffset);
        BinaryPrimitives.WriteInt32BigEndian(s[8..], batch.Length - RecordBatchLayout.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(s[12..], -1);
        s[16] = 2;
        BinaryPrimitives.WriteInt16BigEndian(s[21..], 0);
        BinaryPrimitives.WriteInt32BigEndian(s[23..], recordCount - 1);
        BinaryPrimitives.WriteInt64BigEndian(s[27..], timestamp);
        BinaryPrimitives.WriteInt64BigEndian(s[35..], timestamp);
        BinaryPrimitives.WriteInt64BigEndian(s[43..], producerId);
        BinaryPrimitives.WriteInt16BigEndian(s[51..], producerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(s[53..], baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(s[57..], recordCount);
        records.CopyTo(batch, RecordBatchLayout.HeaderSize);
        RecordBatchPatch.RecomputeCrc(batch);
        return batch;
    }

    private static void WriteVarLong(List<byte> to, long value)
    {
        ulong v = (ulong)((value << 1) ^ (value >> 63));
        while (v >= 0x80)
        {
            to.Add((byte)(v | 0x80));
            v >>= 7;
        }
        to.Add((byte)v);
    }

    /// <summary>Splits concatenated batches into (baseOffset, lastOffset, size) tuples, checking CRCs.</summary>
    public static List<(long Base, long Last, int Size)> Parse(ReadOnlySpan<byte> data)
    {
        var result = new List<(long, long, int)>();
        int at = 0;
        while (at < data.Length)
        {
            var h = new RecordBatchHeader(data[at..]);
            Assert.True(h.IsCrcValid, $"CRC invalid at {at}");
            result.Add((h.BaseOffset, h.LastOffset, h.SizeInBytes));
            at += h.SizeInBytes;
        }
        return result;
    }
}

/// <summary>A clock the test moves by hand. Timers fire when time is advanced past their due time.</summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = new();
    private DateTimeOffset _now = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock) return _now;
    }

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_lock)
        {
            _now += by;
            due = _timers.Where(t => t.Due <= _now).ToList();
            foreach (var t in due) _timers.Remove(t);
        }
        foreach (var t in due) t.Fire();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private TimeSpan _period;
        public DateTimeOffset Due { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
                _period = period;
                if (dueTime == Timeout.InfiniteTimeSpan) return true;
                Due = owner._now + dueTime;
                owner._timers.Add(this);
            }
            return true;
        }

        public void Fire()
        {
            callback(state);
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan) Change(_period, _period);
        }

        public void Dispose()
        {
            lock (owner._lock) owner._timers.Remove(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return default;
        }
    }
}

/// <summary>Collects log lines so tests can assert on warnings.</summary>
public sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (Entries) Entries.Add((logLevel, formatter(state, exception)));
    }
}

/// <summary>A temp directory removed after the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("samsa-storage-").FullName;
    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

public abstract class LogTestBase : IDisposable
{
    protected TempDir Temp { get; } = new();
    protected ManualTimeProvider Time { get; } = new();
    protected ListLogger Logger { get; } = new();
    protected string PartitionDir => System.IO.Path.Combine(Temp.Path, "t-0");

    protected PartitionLog Open(LogConfig? config = null, LogFlushPolicy? flush = null) =>
        PartitionLog.Open(PartitionDir, "t", 0, config ?? LogConfig.Default, flush ?? LogFlushPolicy.GroupCommit, Time, Logger);

    protected static AppendResult Append(PartitionLog log, byte[] batch, int epoch = 0) =>
        log.AppendAsLeader(batch, epoch, AppendOrigin.Client);

    public virtual void Dispose() => Temp.Dispose();
}

namespace Samsa.Broker.Quotas;

/// <summary>
/// Kafka's Rate over a SampledStat: the sum of the values recorded in the last <c>samples</c> windows of
/// <c>windowMs</c>, divided by the time those windows span. Until enough windows have elapsed the span counts as
/// <c>samples - 1</c> full windows (Kafka's Rate.windowSize), so a new client cannot burst far above its quota in its
/// first second. Thread-safe (a short lock per record).
/// </summary>
internal sealed class SampledRate(int samples, long windowMs)
{
    private readonly long[] _start = new long[samples];
    private readonly double[] _value = new double[samples];
    private readonly object _lock = new();
    private int _current = -1;

    public long LastRecordMs { get; private set; }

    /// <summary>Adds <paramref name="value"/> at <paramref name="nowMs"/> and returns the rate per second afterwards.</summary>
    public double Record(double value, long nowMs)
    {
        lock (_lock)
        {
            Advance(nowMs);
            _value[_current] += value;
            LastRecordMs = nowMs;
            return RateLocked(nowMs);
        }
    }

    /// <summary>Takes back a value recorded by <see cref="Record"/> (a throttled fetch returns no data, as Kafka's unrecord).</summary>
    public void Unrecord(double value, long nowMs)
    {
        lock (_lock)
        {
            Advance(nowMs);
            _value[_current] -= value;
        }
    }

    /// <summary>The time span (ms) the rate is computed over at <paramref name="nowMs"/>.</summary>
    public long WindowSizeMs(long nowMs)
    {
        lock (_lock) return WindowLocked(nowMs);
    }

    private double RateLocked(long nowMs)
    {
        double total = 0;
        for (int i = 0; i < samples; i++)
            if (_value[i] != 0 && nowMs - _start[i] < samples * windowMs) total += _value[i];
        return total * 1000.0 / WindowLocked(nowMs);
    }

    private long WindowLocked(long nowMs)
    {
        long oldest = nowMs;
        for (int i = 0; i < samples; i++)
            if (_start[i] != 0 && nowMs - _start[i] < samples * windowMs) oldest = Math.Min(oldest, _start[i]);
        long elapsed = nowMs - oldest;
        long fullWindows = elapsed / windowMs;
        if (fullWindows < samples - 1) elapsed += (samples - 1 - fullWindows) * windowMs;
        return Math.Max(1, elapsed);
    }

    /// <summary>Moves to a new sample when the current one's window has passed, expiring the sample it replaces.</summary>
    private void Advance(long nowMs)
    {
        if (_current >= 0 && nowMs - _start[_current] < windowMs) return;
        _current = (_current + 1) % samples;
        // A sample starts when its first value arrives, as Kafka's SampledStat (0 would read as "unused").
        _start[_current] = Math.Max(1, nowMs);
        _value[_current] = 0;
    }
}

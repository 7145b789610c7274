namespace Samsa.Broker.Metrics;

/// <summary>
/// A Prometheus histogram of durations with fixed bucket bounds (seconds). <see cref="Observe"/> is lock-free and
/// allocation-free: one bucket increment, one count increment, one sum add (microseconds). Readers may see a sample
/// in a bucket before it reaches the count; scrapes tolerate that skew.
/// </summary>
public sealed class Histogram
{
    /// <summary>Request latencies: sub-millisecond answers up to 30 s long polls.</summary>
    public static readonly double[] RequestBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>fsync latencies: tens of microseconds on a write-back cache up to seconds on a saturated disk.</summary>
    public static readonly double[] FsyncBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    private readonly double[] _bounds;
    private readonly long[] _counts; // per bucket, not cumulative; the last slot is +Inf
    private long _count;
    private long _sumMicros;

    public Histogram(double[] bounds)
    {
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
    }

    public IReadOnlyList<double> Bounds => _bounds;

    public long Count => Interlocked.Read(ref _count);

    public double SumSeconds => Interlocked.Read(ref _sumMicros) / 1e6;

    public void Observe(TimeSpan elapsed)
    {
        double seconds = elapsed.TotalSeconds;
        int i = 0;
        while (i < _bounds.Length && seconds > _bounds[i]) i++;
        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _sumMicros, (long)elapsed.TotalMicroseconds);
        Interlocked.Increment(ref _count);
    }

    /// <summary>Cumulative counts per bound, then the +Inf bucket (equal to the count of samples seen by the loop).</summary>
    public long[] CumulativeCounts()
    {
        var result = new long[_counts.Length];
        long running = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            result[i] = running;
        }
        return result;
    }
}

/// <summary>A gauge moved up and down by concurrent callers (requests entering and leaving a wait).</summary>
public sealed class Gauge
{
    private long _value;

    public long Value => Interlocked.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);

    public void Decrement() => Interlocked.Decrement(ref _value);
}

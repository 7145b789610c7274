namespace Samsa.Commands;

/// <summary>
/// Log-linear latency histogram in microseconds, HdrHistogram-style: values below 128 µs are exact, above that each
/// power of two is split into 64 buckets, so a reported percentile is within 1.6% of the true value. Fixed size
/// (about 18 KB), no allocation per record. <see cref="Record"/> is thread-safe (interlocked); percentiles are read
/// from a snapshot and are only exact once recording has stopped.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBuckets = 64;
    private const int Exact = 2 * SubBuckets;
    private readonly long[] _counts = new long[Exact + (40 * SubBuckets)];
    private long _count;
    private long _sum;
    private long _max;

    public long Count => Interlocked.Read(ref _count);

    public void Record(long micros)
    {
        micros = Math.Clamp(micros, 0, (1L << 40) - 1);
        Interlocked.Increment(ref _counts[Index(micros)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, micros);
        long max = Interlocked.Read(ref _max);
        while (micros > max)
        {
            long seen = Interlocked.CompareExchange(ref _max, micros, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    internal static int Index(long micros)
    {
        if (micros < Exact)
        {
            return (int)micros;
        }

        int msb = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)micros);
        int shift = msb - 6;
        return ((shift + 1) * SubBuckets) + (int)((micros >> shift) - SubBuckets);
    }

    /// <summary>The highest value that falls in bucket <paramref name="index"/> (so percentiles never under-report).</summary>
    internal static long UpperBound(int index)
    {
        if (index < Exact)
        {
            return index;
        }

        int shift = (index / SubBuckets) - 1;
        long low = ((long)(index % SubBuckets) + SubBuckets) << shift;
        return low + (1L << shift) - 1;
    }

    public LatencySummary Summarize()
    {
        long count = Count;
        if (count == 0)
        {
            return new LatencySummary(0, 0, 0, 0, 0, 0, 0);
        }

        double[] quantiles = [0.50, 0.95, 0.99, 0.999];
        var values = new double[quantiles.Length];
        long seen = 0;
        int q = 0;
        for (int i = 0; i < _counts.Length && q < quantiles.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            while (q < quantiles.Length && seen >= (long)Math.Ceiling(quantiles[q] * count))
            {
                values[q++] = UpperBound(i) / 1000.0;
            }
        }

        double max = Interlocked.Read(ref _max) / 1000.0;
        for (; q < quantiles.Length; q++)
        {
            values[q] = max;
        }

        return new LatencySummary(Interlocked.Read(ref _sum) / 1000.0 / count, Math.Min(values[0], max), Math.Min(values[1], max),
            Math.Min(values[2], max), Math.Min(values[3], max), max, count);
    }
}

/// <summary>Latency percentiles in milliseconds.</summary>
internal readonly record struct LatencySummary(double Avg, double P50, double P95, double P99, double P999, double Max, long Count);

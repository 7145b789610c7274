using System.Diagnostics;

namespace Samsa.Storage;

/// <summary>
/// Caps the cleaner's I/O (bytes read plus written) at log.cleaner.io.max.bytes.per.second, shared by every cleaner
/// thread (Kafka's Throttler): after each chunk a thread sleeps long enough for the average rate since the window
/// started to fall back under the cap. Uses the wall clock: a throttle must slow real I/O even under a test clock.
/// Thread-safety: safe for concurrent use.
/// </summary>
internal sealed class CleanerThrottle(double maxBytesPerSecond)
{
    private const long WindowMs = 300;
    private readonly Lock _lock = new();
    private readonly Stopwatch _window = Stopwatch.StartNew();
    private long _bytesInWindow;

    public double MaxBytesPerSecond => maxBytesPerSecond;
    public bool Enabled => maxBytesPerSecond is > 0 and < double.MaxValue;
    public long ThrottledMs { get; private set; }

    public void Acquire(long bytes, CancellationToken cancellationToken = default)
    {
        if (!Enabled || bytes <= 0) return;
        int sleepMs = 0;
        lock (_lock)
        {
            _bytesInWindow += bytes;
            long elapsed = _window.ElapsedMilliseconds;
            if (elapsed >= WindowMs || _bytesInWindow > maxBytesPerSecond * WindowMs / 1000)
            {
                double neededMs = _bytesInWindow * 1000.0 / maxBytesPerSecond;
                if (neededMs > elapsed) sleepMs = (int)Math.Min(neededMs - elapsed, int.MaxValue);
                _bytesInWindow = 0;
                _window.Restart();
                ThrottledMs += sleepMs;
            }
        }
        if (sleepMs > 0) cancellationToken.WaitHandle.WaitOne(sleepMs);
    }
}

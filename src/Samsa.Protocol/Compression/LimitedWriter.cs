using System.Buffers;

namespace Samsa.Protocol.Compression;

/// <summary>
/// Hands out spans of <paramref name="destination"/> capped so that no more than the limit plus one byte can be
/// written; a decoder that fills the extra byte proves the output is over the limit.
/// </summary>
internal ref struct LimitedWriter(IBufferWriter<byte> destination, int limit)
{
    private const int ChunkSize = 64 * 1024;

    public int Written { get; private set; }

    public readonly int Remaining => limit - Written;

    /// <summary>A span for up to <paramref name="desired"/> bytes, at most one past the limit.</summary>
    public readonly Span<byte> GetSpan(int desired = ChunkSize)
    {
        long allowed = (long)limit - Written + 1;
        int size = (int)Math.Min(Math.Max(desired, 1), allowed);
        return destination.GetSpan(size)[..size];
    }

    public void Advance(int count)
    {
        if (count > limit - Written) throw new DecompressionLimitExceededException(limit);
        destination.Advance(count);
        Written += count;
    }

    /// <summary>Checks that an exactly-known output size fits before anything is allocated.</summary>
    public readonly void Require(long size)
    {
        if (size > limit - Written) throw new DecompressionLimitExceededException(limit);
    }
}

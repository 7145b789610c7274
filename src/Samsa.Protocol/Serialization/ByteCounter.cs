using System.Buffers;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// The output of a size pass: a <see cref="KafkaWriter"/> over it counts the bytes a frame will take
/// (<see cref="KafkaWriter.BytesWritten"/>) without producing them. Spans handed out are scratch nobody reads, and the
/// writer does not copy raw payloads (records, bytes) at all. One cached instance per thread.
/// </summary>
internal sealed class ByteCounter : IBufferWriter<byte>
{
    // Scratch only needs to fit the largest single reservation (a string of up to 32 KiB); larger ones are not kept.
    private const int MaxRetainedScratch = 64 * 1024;

    [ThreadStatic] private static ByteCounter? _cached;

    private byte[] _scratch = new byte[256];

    public static ByteCounter Rent()
    {
        var counter = _cached ?? new ByteCounter();
        // Taken out while in use so a nested call on this thread cannot share it.
        _cached = null;
        return counter;
    }

    public static void Return(ByteCounter counter)
    {
        if (counter._scratch.Length <= MaxRetainedScratch) _cached = counter;
    }

    public void Advance(int count) => ArgumentOutOfRangeException.ThrowIfNegative(count);

    public Memory<byte> GetMemory(int sizeHint = 0) => Scratch(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => Scratch(sizeHint);

    private byte[] Scratch(int sizeHint)
    {
        if (sizeHint > _scratch.Length) _scratch = new byte[Math.Max(sizeHint, 2 * _scratch.Length)];
        return _scratch;
    }
}

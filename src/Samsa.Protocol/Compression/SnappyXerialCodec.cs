using System.Buffers;
using System.Buffers.Binary;
using Snappier;

namespace Samsa.Protocol.Compression;

/// <summary>
/// Snappy as Kafka carries it. The Java client writes snappy-java ("xerial") framing: an 8-byte magic
/// (0x82 'SNAPPY' 0x00), int32 version and int32 compatible-version (both 1, big-endian), then blocks of
/// [int32 big-endian compressed length][raw snappy block] each covering up to 32 KiB of input.
/// librdkafka compresses to a single raw snappy block without framing and decodes both, so we do the same:
/// write xerial framing (what the Java consumer expects and every client reads), read either.
/// </summary>
internal static class SnappyXerialCodec
{
    private static ReadOnlySpan<byte> Magic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];
    internal const int HeaderSize = 16;
    private const int BlockSize = 32 * 1024;

    public static bool IsXerialFramed(ReadOnlySpan<byte> source) =>
        source.Length >= HeaderSize && source[..Magic.Length].SequenceEqual(Magic);

    public static void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        Span<byte> header = destination.GetSpan(HeaderSize);
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], 1);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], 1);
        destination.Advance(HeaderSize);

        while (!source.IsEmpty)
        {
            ReadOnlySpan<byte> chunk = source[..Math.Min(BlockSize, source.Length)];
            source = source[chunk.Length..];
            Span<byte> span = destination.GetSpan(4 + Snappy.GetMaxCompressedLength(chunk.Length));
            int n = Snappy.Compress(chunk, span[4..]);
            BinaryPrimitives.WriteInt32BigEndian(span, n);
            destination.Advance(4 + n);
        }
    }

    /// <summary>Raw snappy block without framing, as librdkafka produces it.</summary>
    public static void CompressRaw(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        Span<byte> span = destination.GetSpan(Snappy.GetMaxCompressedLength(source.Length));
        destination.Advance(Snappy.Compress(source, span));
    }

    public static int Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedSize)
    {
        var writer = new LimitedWriter(destination, maxDecompressedSize);
        try
        {
            if (!IsXerialFramed(source))
            {
                DecompressBlock(source, ref writer);
                return writer.Written;
            }
            source = source[HeaderSize..];
            while (!source.IsEmpty)
            {
                if (source.Length < 4) throw new CompressionException("Truncated snappy-java block length.");
                int length = BinaryPrimitives.ReadInt32BigEndian(source);
                if (length < 0 || length > source.Length - 4)
                    throw new CompressionException($"Invalid snappy-java block length {length}.");
                DecompressBlock(source.Slice(4, length), ref writer);
                source = source[(4 + length)..];
            }
            return writer.Written;
        }
        catch (CompressionException) { throw; }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or IndexOutOfRangeException)
        {
            throw new CompressionException("Invalid snappy data.", e);
        }
    }

    private static void DecompressBlock(ReadOnlySpan<byte> block, ref LimitedWriter writer)
    {
        int length = Snappy.GetUncompressedLength(block);
        if (length < 0) throw new CompressionException("Invalid snappy block length.");
        writer.Require(length);
        if (length == 0) return;
        Span<byte> target = writer.GetSpan(length)[..length];
        int written = Snappy.Decompress(block, target);
        if (written != length) throw new CompressionException("Snappy block shorter than its declared length.");
        writer.Advance(written);
    }
}

using System.Buffers;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Samsa.Protocol.Records;
using ZstdSharp;

namespace Samsa.Protocol.Compression;

/// <summary>
/// Compression codecs of Kafka record batches (attributes bits 0-2): gzip (RFC 1952), snappy (snappy-java
/// framing; raw blocks also read), lz4 (LZ4 frame format), zstd (RFC 8878 frames).
/// Every decompression takes a limit on its output so a small batch cannot expand without bound.
/// Thread-safe: zstd contexts are cached per thread.
/// </summary>
public static class CompressionCodec
{
    /// <summary>Default decompression limit: Kafka's default max.message.bytes is ~1 MiB; allow generous headroom.</summary>
    public const int DefaultMaxDecompressedSize = 64 * 1024 * 1024;

    [ThreadStatic] private static Decompressor? t_zstdDecompressor;

    public static bool IsSupported(CompressionType type) => type <= CompressionType.Zstd;

    /// <summary>
    /// Compresses <paramref name="source"/> with <paramref name="type"/> and appends the result to
    /// <paramref name="destination"/>. <paramref name="level"/> is the codec's own level (Kafka's
    /// compression.gzip/lz4/zstd.level); null picks the codec default.
    /// </summary>
    public static void Compress(CompressionType type, ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int? level = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        switch (type)
        {
            case CompressionType.None:
                source.CopyTo(destination.GetSpan(source.Length));
                destination.Advance(source.Length);
                break;
            case CompressionType.Gzip:
                CompressGzip(source, destination, level);
                break;
            case CompressionType.Snappy:
                SnappyXerialCodec.Compress(source, destination);
                break;
            case CompressionType.Lz4:
                Lz4FrameCodec.Compress(source, destination, level);
                break;
            case CompressionType.Zstd:
                CompressZstd(source, destination, level);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown compression type.");
        }
    }

    /// <summary>
    /// Decompresses <paramref name="source"/> and appends the result to <paramref name="destination"/>.
    /// Returns the number of bytes written. Throws <see cref="CompressionException"/> on malformed input
    /// and <see cref="DecompressionLimitExceededException"/> when output would exceed
    /// <paramref name="maxDecompressedSize"/> (destination may then hold a partial result).
    /// </summary>
    public static int Decompress(CompressionType type, ReadOnlySpan<byte> source, IBufferWriter<byte> destination,
        int maxDecompressedSize = DefaultMaxDecompressedSize)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegative(maxDecompressedSize);
        switch (type)
        {
            case CompressionType.None:
                var writer = new LimitedWriter(destination, maxDecompressedSize);
                writer.Require(source.Length);
                source.CopyTo(destination.GetSpan(source.Length));
                writer.Advance(source.Length);
                return source.Length;
            case CompressionType.Gzip:
                // GZipStream needs a Stream; copying the (compressed, small) input is cheaper than the inflate.
                byte[] rented = ArrayPool<byte>.Shared.Rent(source.Length);
                try
                {
                    source.CopyTo(rented);
                    return DecompressGzip(new MemoryStream(rented, 0, source.Length, writable: false), destination, maxDecompressedSize);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            case CompressionType.Snappy:
                return SnappyXerialCodec.Decompress(source, destination, maxDecompressedSize);
            case CompressionType.Lz4:
                return Lz4FrameCodec.Decompress(source, destination, maxDecompressedSize);
            case CompressionType.Zstd:
                return DecompressZstd(source, destination, maxDecompressedSize);
            default:
                throw new CompressionException($"Unknown compression type {(int)type}.");
        }
    }

    /// <summary>As the span overload, without copying array-backed gzip input.</summary>
    public static int Decompress(CompressionType type, ReadOnlyMemory<byte> source, IBufferWriter<byte> destination,
        int maxDecompressedSize = DefaultMaxDecompressedSize)
    {
        if (type == CompressionType.Gzip && MemoryMarshal.TryGetArray(source, out ArraySegment<byte> segment))
        {
            ArgumentNullException.ThrowIfNull(destination);
            ArgumentOutOfRangeException.ThrowIfNegative(maxDecompressedSize);
            return DecompressGzip(new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false),
                destination, maxDecompressedSize);
        }
        return Decompress(type, source.Span, destination, maxDecompressedSize);
    }

    // GZipStream writes nothing at all for empty input; Java's GZIPInputStream needs a member, so write the
    // minimal one: header (no flags, OS unknown), an empty final deflate block, CRC-32 0, ISIZE 0.
    private static ReadOnlySpan<byte> EmptyGzipMember =>
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];

    private static void CompressGzip(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int? level)
    {
        if (source.IsEmpty)
        {
            EmptyGzipMember.CopyTo(destination.GetSpan(EmptyGzipMember.Length));
            destination.Advance(EmptyGzipMember.Length);
            return;
        }
        var options = new ZLibCompressionOptions { CompressionLevel = Math.Clamp(level ?? 6, 0, 9) };
        using var gzip = new GZipStream(new BufferWriterStream(destination), options, leaveOpen: false);
        gzip.Write(source);
    }

    private static int DecompressGzip(Stream input, IBufferWriter<byte> destination, int maxDecompressedSize)
    {
        var writer = new LimitedWriter(destination, maxDecompressedSize);
        try
        {
            using var gzip = new GZipStream(input, CompressionMode.Decompress, leaveOpen: true);
            while (true)
            {
                int n = gzip.Read(writer.GetSpan());
                if (n == 0) break;
                writer.Advance(n);
            }
        }
        catch (InvalidDataException e)
        {
            throw new CompressionException("Invalid gzip data.", e);
        }
        // GZipStream reports a truncated stream as a clean end. The trailer's ISIZE is the size of the last member,
        // never more than the whole output; truncated input ends in compressed bytes that almost never satisfy that.
        if (input.Length < 18) throw new CompressionException("Truncated gzip data.");
        input.Position = input.Length - 4;
        Span<byte> trailer = stackalloc byte[4];
        input.ReadExactly(trailer);
        if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer) > (uint)writer.Written)
            throw new CompressionException("Truncated gzip data.");
        return writer.Written;
    }

    private static void CompressZstd(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int? level)
    {
        using var compressor = new Compressor(level ?? 3);
        Span<byte> span = destination.GetSpan(Compressor.GetCompressBound(source.Length));
        destination.Advance(compressor.Wrap(source, span));
    }

    private static int DecompressZstd(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedSize)
    {
        var decompressor = t_zstdDecompressor ??= new Decompressor();
        decompressor.ResetStream();
        var writer = new LimitedWriter(destination, maxDecompressedSize);
        try
        {
            while (true)
            {
                Span<byte> target = writer.GetSpan();
                OperationStatus status = decompressor.UnwrapStream(source, target, out int consumed, out int written);
                source = source[consumed..];
                writer.Advance(written);
                switch (status)
                {
                    case OperationStatus.Done when source.IsEmpty:
                        return writer.Written;
                    case OperationStatus.Done:
                        continue; // concatenated frames
                    case OperationStatus.NeedMoreData when source.IsEmpty:
                        throw new CompressionException("Truncated zstd frame.");
                    case OperationStatus.InvalidData:
                        throw new CompressionException("Invalid zstd data.");
                }
                if (consumed == 0 && written == 0 && status != OperationStatus.DestinationTooSmall)
                    throw new CompressionException("zstd decoder made no progress.");
            }
        }
        catch (ZstdException e)
        {
            decompressor.ResetStream();
            throw new CompressionException("Invalid zstd data.", e);
        }
        catch
        {
            decompressor.ResetStream();
            throw;
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using K4os.Compression.LZ4;

namespace Samsa.Protocol.Compression;

/// <summary>
/// The LZ4 frame format (lz4_Frame_format.md v1.6), which Kafka uses for magic 1 and 2 batches.
/// Written as Kafka's own KafkaLZ4BlockOutputStream does: independent 64 KiB blocks, no checksums, no content
/// size. Kafka (Java) rejects dependent blocks, so the reader does too; block and content checksums,
/// content size and concatenated frames are accepted.
/// </summary>
internal static class Lz4FrameCodec
{
    private const uint FrameMagic = 0x184D2204;
    private const int BlockSize = 64 * 1024;
    private const byte FlagVersionMask = 0xC0;
    private const byte FlagVersion1 = 0x40;
    private const byte FlagBlockIndependence = 0x20;
    private const byte FlagBlockChecksum = 0x10;
    private const byte FlagContentSize = 0x08;
    private const byte FlagContentChecksum = 0x04;
    private const byte FlagReserved = 0x02;
    private const byte FlagDictionaryId = 0x01;
    private const uint UncompressedBlockBit = 0x80000000;

    public static void Compress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int? level)
    {
        var lz4Level = level is null or <= 2 ? LZ4Level.L00_FAST : (LZ4Level)Math.Min(level.Value, (int)LZ4Level.L12_MAX);

        Span<byte> header = destination.GetSpan(7);
        BinaryPrimitives.WriteUInt32LittleEndian(header, FrameMagic);
        header[4] = FlagVersion1 | FlagBlockIndependence;
        header[5] = 4 << 4; // block maximum size 64 KiB
        header[6] = DescriptorChecksum(header[4..6]);
        destination.Advance(7);

        while (!source.IsEmpty)
        {
            ReadOnlySpan<byte> chunk = source[..Math.Min(BlockSize, source.Length)];
            source = source[chunk.Length..];
            Span<byte> span = destination.GetSpan(4 + Math.Max(LZ4Codec.MaximumOutputSize(chunk.Length), chunk.Length));
            int n = LZ4Codec.Encode(chunk, span[4..], lz4Level);
            if (n <= 0 || n >= chunk.Length)
            {
                chunk.CopyTo(span[4..]);
                BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)chunk.Length | UncompressedBlockBit);
                destination.Advance(4 + chunk.Length);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)n);
                destination.Advance(4 + n);
            }
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination.GetSpan(4), 0);
        destination.Advance(4);
    }

    public static int Decompress(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, int maxDecompressedSize)
    {
        var writer = new LimitedWriter(destination, maxDecompressedSize);
        do
        {
            source = DecompressFrame(source, destination, ref writer);
        } while (!source.IsEmpty);
        return writer.Written;
    }

    private static ReadOnlySpan<byte> DecompressFrame(ReadOnlySpan<byte> source, IBufferWriter<byte> destination, scoped ref LimitedWriter writer)
    {
        if (source.Length < 7) throw new CompressionException("Truncated LZ4 frame header.");
        if (BinaryPrimitives.ReadUInt32LittleEndian(source) != FrameMagic)
            throw new CompressionException("Not an LZ4 frame (bad magic).");
        byte flags = source[4];
        if ((flags & FlagVersionMask) != FlagVersion1) throw new CompressionException("Unsupported LZ4 frame version.");
        if ((flags & FlagReserved) != 0) throw new CompressionException("LZ4 frame reserved flag set.");
        if ((flags & FlagBlockIndependence) == 0)
            throw new CompressionException("Dependent LZ4 blocks are not supported (Kafka requires block independence).");
        if ((flags & FlagDictionaryId) != 0) throw new CompressionException("LZ4 dictionaries are not supported.");
        byte bd = source[5];
        int blockCode = (bd >> 4) & 0x7;
        if ((bd & 0x8F) != 0 || blockCode < 4) throw new CompressionException("Invalid LZ4 block descriptor.");
        int blockMax = 1 << (8 + 2 * blockCode); // 4 → 64 KiB … 7 → 4 MiB

        int descriptorLength = 2;
        if ((flags & FlagContentSize) != 0)
        {
            if (source.Length < 15) throw new CompressionException("Truncated LZ4 frame header.");
            ulong contentSize = BinaryPrimitives.ReadUInt64LittleEndian(source[6..]);
            if (contentSize > int.MaxValue) throw new DecompressionLimitExceededException(writer.Remaining + writer.Written);
            writer.Require((long)contentSize);
            descriptorLength += 8;
        }
        if (source[4 + descriptorLength] != DescriptorChecksum(source.Slice(4, descriptorLength)))
            throw new CompressionException("LZ4 frame descriptor checksum mismatch.");
        source = source[(5 + descriptorLength)..];

        bool blockChecksum = (flags & FlagBlockChecksum) != 0;
        XxHash32? content = (flags & FlagContentChecksum) != 0 ? new XxHash32() : null;
        while (true)
        {
            if (source.Length < 4) throw new CompressionException("Truncated LZ4 frame.");
            uint raw = BinaryPrimitives.ReadUInt32LittleEndian(source);
            source = source[4..];
            if (raw == 0) break;
            int size = (int)(raw & ~UncompressedBlockBit);
            if (size > blockMax) throw new CompressionException($"LZ4 block of {size} bytes exceeds the frame maximum {blockMax}.");
            if (source.Length < size + (blockChecksum ? 4 : 0)) throw new CompressionException("Truncated LZ4 block.");
            ReadOnlySpan<byte> block = source[..size];
            source = source[size..];
            if (blockChecksum)
            {
                if (XxHash32.HashToUInt32(block) != BinaryPrimitives.ReadUInt32LittleEndian(source))
                    throw new CompressionException("LZ4 block checksum mismatch.");
                source = source[4..];
            }

            Span<byte> target;
            int produced;
            if ((raw & UncompressedBlockBit) != 0)
            {
                writer.Require(size);
                target = destination.GetSpan(size);
                block.CopyTo(target);
                produced = size;
            }
            else
            {
                // Bounded by blockMax (≤ 4 MiB), so this allocation is not itself a bomb.
                target = destination.GetSpan(blockMax);
                produced = LZ4Codec.Decode(block, target[..blockMax]);
                if (produced < 0) throw new CompressionException("Invalid LZ4 block.");
            }
            content?.Append(target[..produced]);
            writer.Advance(produced);
        }
        if (content is not null)
        {
            if (source.Length < 4) throw new CompressionException("Truncated LZ4 content checksum.");
            if (content.GetCurrentHashAsUInt32() != BinaryPrimitives.ReadUInt32LittleEndian(source))
                throw new CompressionException("LZ4 content checksum mismatch.");
            source = source[4..];
        }
        return source;
    }

    private static byte DescriptorChecksum(ReadOnlySpan<byte> descriptor) =>
        (byte)((XxHash32.HashToUInt32(descriptor) >> 8) & 0xFF);
}

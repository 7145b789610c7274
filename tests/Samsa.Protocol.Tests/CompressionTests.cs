using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4.Streams;
using Samsa.Protocol.Compression;
using Samsa.Protocol.Records;

namespace Samsa.Protocol.Tests;

public class CompressionTests
{
    public static TheoryData<CompressionType> AllCodecs =>
        [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

    public static TheoryData<CompressionType> RealCodecs =>
        [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];

    private static byte[] Sample(int size, int seed = 7)
    {
        // Half random, half repetitive, so codecs both compress and store blocks.
        var data = new byte[size];
        new Random(seed).NextBytes(data.AsSpan(0, size / 2));
        for (int i = size / 2; i < size; i++) data[i] = (byte)(i % 13);
        return data;
    }

    private static byte[] Compress(CompressionType type, ReadOnlySpan<byte> data)
    {
        var w = new ArrayBufferWriter<byte>();
        CompressionCodec.Compress(type, data, w);
        return w.WrittenSpan.ToArray();
    }

    private static byte[] Decompress(CompressionType type, ReadOnlySpan<byte> data, int max = CompressionCodec.DefaultMaxDecompressedSize)
    {
        var w = new ArrayBufferWriter<byte>();
        int n = CompressionCodec.Decompress(type, data, w, max);
        Assert.Equal(w.WrittenCount, n);
        return w.WrittenSpan.ToArray();
    }

    [Theory]
    [MemberData(nameof(AllCodecs))]
    public void RoundTrips(CompressionType type)
    {
        foreach (int size in new[] { 0, 1, 100, 32 * 1024, 64 * 1024 + 3, 300_000 })
        {
            byte[] data = Sample(size);
            byte[] compressed = Compress(type, data);
            Assert.Equal(data, Decompress(type, compressed));
            Assert.Equal(data, Decompress(type, compressed.AsSpan()));
            var w = new ArrayBufferWriter<byte>();
            CompressionCodec.Decompress(type, (ReadOnlyMemory<byte>)compressed, w);
            Assert.Equal(data, w.WrittenSpan.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void DecompressionBombIsStopped(CompressionType type)
    {
        byte[] zeros = new byte[4 * 1024 * 1024];
        byte[] compressed = Compress(type, zeros);
        Assert.True(compressed.Length < zeros.Length / 10);
        Assert.Throws<DecompressionLimitExceededException>(() => Decompress(type, compressed, 1024 * 1024));
        Assert.Throws<DecompressionLimitExceededException>(() => Decompress(type, compressed, zeros.Length - 1));
        Assert.Equal(zeros.Length, Decompress(type, compressed, zeros.Length).Length);
    }

    [Fact]
    public void NoneRespectsLimitToo() =>
        Assert.Throws<DecompressionLimitExceededException>(() => Decompress(CompressionType.None, new byte[10], 9));

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void GarbageIsACompressionException(CompressionType type)
    {
        byte[] compressed = Compress(type, Sample(10_000));
        // Truncation.
        Assert.ThrowsAny<CompressionException>(() => Decompress(type, compressed.AsSpan(0, compressed.Length / 2)));
        // Random bytes.
        var garbage = new byte[500];
        new Random(3).NextBytes(garbage);
        Assert.ThrowsAny<CompressionException>(() => Decompress(type, garbage));
    }

    [Fact]
    public void SnappyWritesXerialFraming()
    {
        byte[] compressed = Compress(CompressionType.Snappy, Sample(70_000));
        Assert.Equal(new byte[] { 0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 },
            compressed[..16]);
        // 70 000 bytes in 32 KiB blocks → 3 length-prefixed blocks that exactly fill the rest.
        int position = 16, blocks = 0;
        while (position < compressed.Length)
        {
            position += 4 + BinaryPrimitives.ReadInt32BigEndian(compressed.AsSpan(position));
            blocks++;
        }
        Assert.Equal(compressed.Length, position);
        Assert.Equal(3, blocks);
    }

    [Fact]
    public void SnappyReadsRawBlocksAsLibrdkafkaSendsThem()
    {
        byte[] data = Sample(50_000);
        byte[] raw = Snappier.Snappy.CompressToArray(data);
        Assert.Equal(data, Decompress(CompressionType.Snappy, raw));
        Assert.Throws<DecompressionLimitExceededException>(() => Decompress(CompressionType.Snappy, raw, 49_999));
    }

    [Fact]
    public void Lz4WritesKafkaCompatibleFrame()
    {
        byte[] compressed = Compress(CompressionType.Lz4, Sample(1000));
        Assert.Equal(0x184D2204u, BinaryPrimitives.ReadUInt32LittleEndian(compressed));
        Assert.Equal(0x60, compressed[4]); // version 1, independent blocks, no checksums, no content size
        Assert.Equal(0x40, compressed[5]); // 64 KiB blocks
        Assert.Equal((byte)(System.IO.Hashing.XxHash32.HashToUInt32(compressed.AsSpan(4, 2)) >> 8), compressed[6]);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(compressed.AsSpan(compressed.Length - 4)));
        // The reference frame decoder reads it.
        var w = new ArrayBufferWriter<byte>();
        LZ4Frame.Decode(compressed.AsSpan(), w);
        Assert.Equal(Sample(1000), w.WrittenSpan.ToArray());
    }

    [Fact]
    public void Lz4ReadsFramesFromTheReferenceEncoderWithChecksumsAndContentSize()
    {
        byte[] data = Sample(200_000);
        var settings = new LZ4EncoderSettings
        {
            ChainBlocks = false, BlockChecksum = true, ContentChecksum = true, BlockSize = 256 * 1024,
        };
        var w = new ArrayBufferWriter<byte>();
        LZ4Frame.Encode(data.AsSpan(), w, settings);
        byte[] frame = w.WrittenSpan.ToArray();
        Assert.Equal(data, Decompress(CompressionType.Lz4, frame));
        Assert.Throws<DecompressionLimitExceededException>(() => Decompress(CompressionType.Lz4, frame, 1000));
        // A flipped payload byte breaks the block checksum.
        frame[frame.Length / 2] ^= 0x55;
        Assert.ThrowsAny<CompressionException>(() => Decompress(CompressionType.Lz4, frame));
    }

    [Fact]
    public void Lz4HonoursADeclaredContentSize()
    {
        // Rebuild our frame's descriptor with the content-size flag and an 8-byte size, then fix the HC byte.
        byte[] data = Sample(5000);
        byte[] plain = Compress(CompressionType.Lz4, data);
        var frame = new byte[plain.Length + 8];
        plain.AsSpan(0, 6).CopyTo(frame);
        frame[4] |= 0x08;
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(6), (ulong)data.Length);
        frame[14] = (byte)(System.IO.Hashing.XxHash32.HashToUInt32(frame.AsSpan(4, 10)) >> 8);
        plain.AsSpan(7).CopyTo(frame.AsSpan(15));
        Assert.Equal(data, Decompress(CompressionType.Lz4, frame));
        // A declared size above the limit fails before any block is decoded.
        Assert.Throws<DecompressionLimitExceededException>(() => Decompress(CompressionType.Lz4, frame, 4999));
        frame[14] ^= 1;
        Assert.ThrowsAny<CompressionException>(() => Decompress(CompressionType.Lz4, frame));
    }

    [Fact]
    public void Lz4RejectsDependentBlocksAsKafkaDoes()
    {
        var w = new ArrayBufferWriter<byte>();
        LZ4Frame.Encode(Sample(1000).AsSpan(), w, new LZ4EncoderSettings { ChainBlocks = true });
        Assert.ThrowsAny<CompressionException>(() => Decompress(CompressionType.Lz4, w.WrittenSpan));
    }

    [Fact]
    public void GzipInteroperatesWithGZipStream()
    {
        byte[] data = Sample(100_000);
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        Assert.Equal(data, Decompress(CompressionType.Gzip, ms.ToArray()));
        byte[] ours = Compress(CompressionType.Gzip, data);
        Assert.Equal(0x1f, ours[0]);
        Assert.Equal(0x8b, ours[1]);
        using var reader = new GZipStream(new MemoryStream(ours), CompressionMode.Decompress);
        var back = new MemoryStream();
        reader.CopyTo(back);
        Assert.Equal(data, back.ToArray());
    }

    [Fact]
    public void ZstdReadsStreamingFramesWithoutContentSize()
    {
        // The Java client's ZstdOutputStream does not record the content size.
        byte[] data = Sample(300_000);
        var ms = new MemoryStream();
        using (var zs = new ZstdSharp.CompressionStream(ms, 3, leaveOpen: true)) zs.Write(data);
        byte[] frame = ms.ToArray();
        Assert.Equal(data, Decompress(CompressionType.Zstd, frame));
        Assert.Throws<DecompressionLimitExceededException>(() => Decompress(CompressionType.Zstd, frame, 100_000));
        // The per-thread decoder recovers after an error.
        Assert.Equal(data, Decompress(CompressionType.Zstd, frame));
    }

    [Fact]
    public void UnknownCodecIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CompressionCodec.Compress((CompressionType)5, [1], new ArrayBufferWriter<byte>()));
        Assert.Throws<CompressionException>(() => Decompress((CompressionType)6, [1]));
    }
}

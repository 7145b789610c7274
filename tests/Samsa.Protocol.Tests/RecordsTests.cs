using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Samsa.Protocol.Compression;
using Samsa.Protocol.Records;
using Record = Samsa.Protocol.Records.Record;

namespace Samsa.Protocol.Tests;

public class RecordsTests
{
    /// <summary>Bit-by-bit CRC-32C straight from the definition, independent of the production table/SSE code.</summary>
    private static uint ReferenceCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Crc32CMatchesTheStandardCheckValue()
    {
        byte[] check = Encoding.ASCII.GetBytes("123456789");
        Assert.Equal(0xE3069283u, Crc32C.Compute(check));
        Assert.Equal(0xE3069283u, ReferenceCrc32C(check));
        var data = new byte[1000];
        new Random(1).NextBytes(data);
        for (int len = 0; len < 40; len++) Assert.Equal(ReferenceCrc32C(data.AsSpan(0, len)), Crc32C.Compute(data.AsSpan(0, len)));
        Assert.Equal(ReferenceCrc32C(data), Crc32C.Compute(data));
        Assert.Equal(ReferenceCrc32C(data), ~Crc32C.Update(Crc32C.Update(0xFFFFFFFF, data.AsSpan(0, 333)), data.AsSpan(333)));
    }

    [Fact]
    public void TinyUncompressedBatchMatchesHandComputedBytes()
    {
        using var builder = new RecordBatchBuilder { PartitionLeaderEpoch = 0 };
        builder.Append(1000, key: null, value: "a"u8.ToArray());
        byte[] batch = builder.Build();

        byte[] expected =
        [
            0, 0, 0, 0, 0, 0, 0, 0,                 // baseOffset 0
            0, 0, 0, 57,                            // batchLength = 69 - 12
            0, 0, 0, 0,                             // partitionLeaderEpoch 0
            2,                                      // magic
            0, 0, 0, 0,                             // crc (checked below)
            0, 0,                                   // attributes: none, CreateTime
            0, 0, 0, 0,                             // lastOffsetDelta
            0, 0, 0, 0, 0, 0, 0x03, 0xE8,           // baseTimestamp 1000
            0, 0, 0, 0, 0, 0, 0x03, 0xE8,           // maxTimestamp 1000
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // producerId -1
            0xFF, 0xFF,                             // producerEpoch -1
            0xFF, 0xFF, 0xFF, 0xFF,                 // baseSequence -1
            0, 0, 0, 1,                             // recordCount 1
            // record: length 7 (zigzag 14), attributes, tsDelta 0, offsetDelta 0, key -1 (zigzag 1),
            // value length 1 (zigzag 2), 'a', 0 headers
            0x0E, 0x00, 0x00, 0x00, 0x01, 0x02, 0x61, 0x00,
        ];
        BinaryPrimitives.WriteUInt32BigEndian(expected.AsSpan(17), ReferenceCrc32C(expected.AsSpan(21)));
        Assert.Equal(expected, batch);
    }

    [Fact]
    public void HeaderViewReadsEveryField()
    {
        using var builder = new RecordBatchBuilder(CompressionType.Lz4, TimestampType.LogAppendTime)
        {
            BaseOffset = 1234, PartitionLeaderEpoch = 7, ProducerId = 99, ProducerEpoch = 3, BaseSequence = 42,
            IsTransactional = true, LogAppendTime = 5000,
        };
        builder.Append(100, "k"u8.ToArray(), "v"u8.ToArray());
        builder.Append(300, null, null);
        builder.Append(200, null, null);
        byte[] bytes = builder.Build();
        var h = new RecordBatchHeader(bytes);
        Assert.Equal(1234, h.BaseOffset);
        Assert.Equal(bytes.Length, h.SizeInBytes);
        Assert.Equal(bytes.Length - 12, h.BatchLength);
        Assert.Equal(7, h.PartitionLeaderEpoch);
        Assert.Equal(2, h.Magic);
        Assert.Equal(2, h.LastOffsetDelta);
        Assert.Equal(1236, h.LastOffset);
        Assert.Equal(100, h.BaseTimestamp);
        Assert.Equal(5000, h.MaxTimestamp);
        Assert.Equal(99, h.ProducerId);
        Assert.Equal(3, h.ProducerEpoch);
        Assert.Equal(42, h.BaseSequence);
        Assert.Equal(44, h.LastSequence);
        Assert.Equal(3, h.RecordCount);
        Assert.Equal(CompressionType.Lz4, h.Compression);
        Assert.Equal(TimestampType.LogAppendTime, h.TimestampType);
        Assert.True(h.IsTransactional);
        Assert.False(h.IsControl);
        Assert.True(h.HasProducerId);
        Assert.True(h.IsCrcValid);
        Assert.Equal((short)(3 | 0x08 | 0x10), h.Attributes);
    }

    [Fact]
    public void CreateTimeMaxTimestampIsTheLargest()
    {
        using var builder = new RecordBatchBuilder();
        builder.Append(100, null, null).Append(300, null, null).Append(200, null, null);
        var h = new RecordBatchHeader(builder.Build());
        Assert.Equal(100, h.BaseTimestamp);
        Assert.Equal(300, h.MaxTimestamp);
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(int.MaxValue, 0, int.MaxValue)]
    [InlineData(int.MaxValue, 1, 0)]
    [InlineData(int.MaxValue - 1, 3, 1)]
    [InlineData(-1, 5, -1)]
    public void LastSequenceWrapsAroundAtInt32Max(int baseSequence, int lastOffsetDelta, int expected)
    {
        var bytes = new byte[RecordBatchLayout.HeaderSize];
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(RecordBatchLayout.BaseSequenceOffset), baseSequence);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(RecordBatchLayout.LastOffsetDeltaOffset), lastOffsetDelta);
        Assert.Equal(expected, new RecordBatchHeader(bytes).LastSequence);
    }

    public static TheoryData<CompressionType, TimestampType> CodecsAndTimestampTypes()
    {
        var data = new TheoryData<CompressionType, TimestampType>();
        foreach (var c in new[] { CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd })
            foreach (var t in new[] { TimestampType.CreateTime, TimestampType.LogAppendTime })
                data.Add(c, t);
        return data;
    }

    [Theory]
    [MemberData(nameof(CodecsAndTimestampTypes))]
    public void BuildThenReadRoundTrips(CompressionType compression, TimestampType timestampType)
    {
        var headers = new List<RecordHeader> { new("trace", "abc"u8.ToArray()), new("ünï", null), new("empty", ReadOnlyMemory<byte>.Empty) };
        using var builder = new RecordBatchBuilder(compression, timestampType) { BaseOffset = 10, LogAppendTime = 9999 };
        for (int i = 0; i < 200; i++)
        {
            builder.Append(1_700_000_000_000 + i * 7,
                i % 3 == 0 ? null : Encoding.UTF8.GetBytes($"key-{i}"),
                i % 5 == 0 ? null : Encoding.UTF8.GetBytes(new string('x', i)),
                i % 2 == 0 ? headers : null);
        }
        var buffer = new ArrayBufferWriter<byte>();
        int size = builder.Build(buffer);
        Assert.Equal(size, buffer.WrittenCount);

        var reader = new RecordBatchReader(buffer.WrittenMemory);
        Assert.True(reader.TryReadNext(out var batch));
        Assert.False(reader.TryReadNext(out _));
        Assert.Equal(RecordBatchError.None, reader.Error);
        Assert.Equal(compression, batch.Compression);
        Assert.Equal(timestampType, batch.TimestampType);
        Assert.Equal(10, batch.BaseOffset);
        Assert.Equal(209, batch.LastOffset);
        Assert.Equal(timestampType == TimestampType.LogAppendTime ? 9999 : 1_700_000_000_000 + 199 * 7, batch.Header.MaxTimestamp);

        var records = batch.ReadRecords();
        Assert.Equal(200, records.Count);
        for (int i = 0; i < 200; i++)
        {
            var r = records[i];
            Assert.Equal(10 + i, r.OffsetIn(batch.BaseOffset));
            Assert.Equal(1_700_000_000_000 + i * 7, r.TimestampIn(batch.Header.BaseTimestamp));
            if (i % 3 == 0) Assert.Null(r.Key);
            else Assert.Equal($"key-{i}", Encoding.UTF8.GetString(r.Key!.Value.Span));
            if (i % 5 == 0) Assert.Null(r.Value);
            else Assert.Equal(new string('x', i), Encoding.UTF8.GetString(r.Value!.Value.Span));
            if (i % 2 == 0)
            {
                Assert.Equal(3, r.Headers.Count);
                Assert.Equal("trace", r.Headers[0].Key);
                Assert.Equal("abc"u8.ToArray(), r.Headers[0].Value!.Value.ToArray());
                Assert.Equal("ünï", r.Headers[1].Key);
                Assert.Null(r.Headers[1].Value);
                Assert.NotNull(r.Headers[2].Value);
                Assert.Equal(0, r.Headers[2].Value!.Value.Length);
            }
            else Assert.Empty(r.Headers);
        }
        Assert.Equal(RecordBatchError.None, RecordBatchReader.ValidateProducePayload(buffer.WrittenMemory,
            new RecordValidationOptions { ValidateRecords = true }));
        Assert.Equal(RecordBatchError.None, RecordBatchReader.ValidateProducePayload(buffer.WrittenMemory));
    }

    [Fact]
    public void RecordEncodesAndDecodesAlone()
    {
        var record = new Record(5, -3, "k"u8.ToArray(), null, [new RecordHeader("h", "v"u8.ToArray())]);
        var w = new ArrayBufferWriter<byte>();
        int n = record.WriteTo(w);
        Assert.Equal(record.SizeInBytes, n);
        var back = Record.Read(w.WrittenMemory, out int consumed);
        Assert.Equal(n, consumed);
        Assert.Equal(5, back.OffsetDelta);
        Assert.Equal(-3, back.TimestampDelta);
        Assert.Null(back.Value);
        Assert.Equal("h", back.Headers[0].Key);
        // Every strict prefix is truncated, never an exception.
        for (int i = 0; i < n; i++)
            Assert.NotEqual(RecordBatchError.None, Record.TryRead(w.WrittenMemory[..i], out _, out _));
    }

    [Fact]
    public void ReaderIteratesSeveralBatchesAndStopsAtAPartialTail()
    {
        var buffer = new ArrayBufferWriter<byte>();
        for (int b = 0; b < 3; b++)
        {
            using var builder = new RecordBatchBuilder(CompressionType.Snappy) { BaseOffset = b * 10 };
            builder.Append(1, null, "v"u8.ToArray()).Append(2, null, "w"u8.ToArray());
            builder.Build(buffer);
        }
        byte[] all = buffer.WrittenSpan.ToArray();
        var reader = new RecordBatchReader(all.AsMemory(0, all.Length - 5));
        var offsets = new List<long>();
        while (reader.TryReadNext(out var batch)) offsets.Add(batch.BaseOffset);
        Assert.Equal([0L, 10L], offsets);
        Assert.Equal(RecordBatchError.Truncated, reader.Error);
        // In a produce request a partial batch is corrupt.
        Assert.Equal(RecordBatchError.Truncated, RecordBatchReader.ValidateProducePayload(all.AsMemory(0, 30)));
        Assert.Equal(RecordBatchErrors.CorruptMessage, RecordBatchError.Truncated.ToKafkaErrorCode());
        // Produce carries exactly one batch per partition.
        Assert.Equal(RecordBatchError.NotExactlyOneBatch, RecordBatchReader.ValidateProducePayload(all));
        Assert.Equal(RecordBatchError.None, RecordBatchReader.ValidateProducePayload(all,
            new RecordValidationOptions { RequireExactlyOneBatch = false, ValidateRecords = true }));
    }

    private static byte[] SimpleBatch(CompressionType compression = CompressionType.None, int records = 3)
    {
        using var builder = new RecordBatchBuilder(compression);
        for (int i = 0; i < records; i++) builder.Append(1000 + i, "key"u8.ToArray(), "value"u8.ToArray());
        return builder.Build();
    }

    [Fact]
    public void CorruptCrcIsDetected()
    {
        byte[] batch = SimpleBatch();
        batch[^2] ^= 0x01;
        var reader = new RecordBatchReader(batch);
        Assert.False(reader.TryReadNext(out _));
        Assert.Equal(RecordBatchError.CrcMismatch, reader.Error);
        Assert.False(new RecordBatchHeader(batch).IsCrcValid);
        Assert.Equal(RecordBatchError.CrcMismatch, RecordBatchReader.ValidateProducePayload(batch));
        // Without CRC checking the batch is still framed.
        Assert.True(new RecordBatchReader(batch, verifyCrc: false).TryReadNext(out _));
    }

    [Fact]
    public void LegacyMagicIsRejectedDistinctly()
    {
        foreach (byte magic in new byte[] { 0, 1 })
        {
            byte[] batch = SimpleBatch();
            batch[RecordBatchLayout.MagicOffset] = magic;
            var reader = new RecordBatchReader(batch);
            Assert.False(reader.TryReadNext(out _));
            Assert.Equal(RecordBatchError.UnsupportedMagic, reader.Error);
            Assert.Equal(RecordBatchError.UnsupportedMagic, RecordBatchReader.ValidateProducePayload(batch));
            Assert.Equal(RecordBatchErrors.UnsupportedForMessageFormat, RecordBatchError.UnsupportedMagic.ToKafkaErrorCode());
        }
        byte[] future = SimpleBatch();
        future[RecordBatchLayout.MagicOffset] = 3;
        Assert.Equal(RecordBatchError.InvalidMagic, RecordBatchReader.ValidateProducePayload(future));
    }

    [Fact]
    public void BadBatchLengthsAreRejected()
    {
        byte[] batch = SimpleBatch();
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(8), 10);
        Assert.Equal(RecordBatchError.InvalidBatchLength, RecordBatchReader.ValidateProducePayload(batch));
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(8), -5);
        Assert.Equal(RecordBatchError.InvalidBatchLength, RecordBatchReader.ValidateProducePayload(batch));
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(8), int.MaxValue);
        Assert.Equal(RecordBatchError.InvalidBatchLength, RecordBatchReader.ValidateProducePayload(batch));
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(8), 1 << 30);
        Assert.Equal(RecordBatchError.Truncated, RecordBatchReader.ValidateProducePayload(batch));
        Assert.Equal(RecordBatchError.Empty, RecordBatchReader.ValidateProducePayload(ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public void TruncatedBatchIsRejected()
    {
        byte[] batch = SimpleBatch();
        for (int cut = 1; cut < batch.Length; cut += 3)
        {
            var error = RecordBatchReader.ValidateProducePayload(batch.AsMemory(0, cut));
            Assert.Equal(RecordBatchError.Truncated, error);
        }
    }

    [Fact]
    public void SizeLimitGivesMessageTooLarge()
    {
        byte[] batch = SimpleBatch();
        var error = RecordBatchReader.ValidateProducePayload(batch, new RecordValidationOptions { MaxBatchSize = batch.Length - 1 });
        Assert.Equal(RecordBatchError.BatchTooLarge, error);
        Assert.Equal(RecordBatchErrors.MessageTooLarge, error.ToKafkaErrorCode());
    }

    [Fact]
    public void RecordCountMismatchIsFoundWithoutDecompressing()
    {
        byte[] batch = SimpleBatch();
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchLayout.RecordCountOffset), 4);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchLayout.LastOffsetDeltaOffset), 3);
        RecordBatchPatch.RecomputeCrc(batch);
        Assert.Equal(RecordBatchError.RecordCountMismatch, RecordBatchReader.ValidateProducePayload(batch));
        Assert.Equal(RecordBatchErrors.InvalidRecord, RecordBatchError.RecordCountMismatch.ToKafkaErrorCode());

        // Compressed: only the full validation sees it.
        byte[] compressed = SimpleBatch(CompressionType.Zstd);
        BinaryPrimitives.WriteInt32BigEndian(compressed.AsSpan(RecordBatchLayout.RecordCountOffset), 4);
        BinaryPrimitives.WriteInt32BigEndian(compressed.AsSpan(RecordBatchLayout.LastOffsetDeltaOffset), 3);
        RecordBatchPatch.RecomputeCrc(compressed);
        Assert.Equal(RecordBatchError.None, RecordBatchReader.ValidateProducePayload(compressed));
        Assert.Equal(RecordBatchError.RecordCountMismatch,
            RecordBatchReader.ValidateProducePayload(compressed, new RecordValidationOptions { ValidateRecords = true }));
    }

    [Fact]
    public void CorruptCompressedPayloadFailsFullValidation()
    {
        byte[] batch = SimpleBatch(CompressionType.Gzip, 50);
        batch[RecordBatchLayout.HeaderSize + 12] ^= 0xFF;
        RecordBatchPatch.RecomputeCrc(batch);
        var error = RecordBatchReader.ValidateProducePayload(batch, new RecordValidationOptions { ValidateRecords = true });
        Assert.True(error is RecordBatchError.DecompressionFailed or RecordBatchError.InvalidRecord, error.ToString());
        Assert.Throws<RecordFormatException>(() => new RecordBatch(batch).ReadRecords());
    }

    [Fact]
    public void DecompressionLimitAppliesToRecords()
    {
        using var builder = new RecordBatchBuilder(CompressionType.Lz4);
        builder.Append(1, null, new byte[1_000_000]);
        byte[] batch = builder.Build();
        Assert.True(batch.Length < 100_000);
        var options = new RecordValidationOptions { ValidateRecords = true, MaxDecompressedSize = 500_000 };
        Assert.Equal(RecordBatchError.BatchTooLarge, RecordBatchReader.ValidateProducePayload(batch, options));
    }

    [Fact]
    public void ProducerFieldsAreChecked()
    {
        using var builder = new RecordBatchBuilder { IsTransactional = true };
        builder.Append(1, null, null);
        Assert.Equal(RecordBatchError.InvalidProducerFields, RecordBatchReader.ValidateProducePayload(builder.Build()));
        builder.ProducerId = 5;
        builder.ProducerEpoch = 0;
        Assert.Equal(RecordBatchError.InvalidProducerFields, RecordBatchReader.ValidateProducePayload(builder.Build()));
        builder.BaseSequence = 0;
        Assert.Equal(RecordBatchError.None, RecordBatchReader.ValidateProducePayload(builder.Build()));
    }

    [Fact]
    public void GapsInOffsetsSurviveAndAreReadBack()
    {
        using var builder = new RecordBatchBuilder { BaseOffset = 100 };
        builder.AppendWithOffset(100, 1, null, null).AppendWithOffset(105, 2, null, null);
        var batch = new RecordBatch(builder.Build());
        Assert.Equal(105, batch.LastOffset);
        var records = batch.ReadRecords();
        Assert.Equal([100L, 105L], records.Select(r => r.OffsetIn(batch.BaseOffset)));
        // Clients never send gaps: the produce validator rejects them.
        Assert.Equal(RecordBatchError.RecordCountMismatch, RecordBatchReader.ValidateProducePayload(batch.Memory));
    }

    [Theory]
    [InlineData(ControlRecordType.Commit)]
    [InlineData(ControlRecordType.Abort)]
    public void ControlBatchRoundTrips(ControlRecordType type)
    {
        var marker = new EndTransactionMarker(type, CoordinatorEpoch: 17);
        byte[] bytes = marker.BuildBatch(producerId: 4000, producerEpoch: 2, timestamp: 123, baseOffset: 55);
        var reader = new RecordBatchReader(bytes);
        Assert.True(reader.TryReadNext(out var batch));
        Assert.True(batch.IsControl);
        Assert.True(batch.IsTransactional);
        Assert.Equal(4000, batch.ProducerId);
        Assert.Equal(2, batch.ProducerEpoch);
        Assert.Equal(-1, batch.Header.BaseSequence);
        Assert.Equal(1, batch.RecordCount);
        Assert.True(EndTransactionMarker.TryParse(batch, out var back));
        Assert.Equal(marker, back);
        var record = batch.ReadRecords()[0];
        Assert.Equal(new byte[] { 0, 0, 0, (byte)type }, record.Key!.Value.ToArray());
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 17 }, record.Value!.Value.ToArray());
        // A client may not send one.
        Assert.Equal(RecordBatchError.ControlBatchFromClient, RecordBatchReader.ValidateProducePayload(bytes));
    }

    [Fact]
    public void ControlParsingRejectsShortKeysAndOtherTypes()
    {
        Assert.False(EndTransactionMarker.TryParse(new Record(0, 0, new byte[] { 0, 0 }, new byte[6]), out _));
        Assert.False(EndTransactionMarker.TryParse(new Record(0, 0, new byte[] { 0, 0, 0, 2 }, new byte[6]), out _));
        Assert.False(EndTransactionMarker.TryParse(new Record(0, 0, new byte[] { 0, 0, 0, 1 }, null), out _));
        Assert.False(EndTransactionMarker.TryParse(new RecordBatch(SimpleBatch()), out _));
    }

    [Fact]
    public void LogAppendTimePatchKeepsTheBatchValid()
    {
        byte[] batch = SimpleBatch(CompressionType.Snappy);
        RecordBatchPatch.SetBaseOffset(batch, 777);
        RecordBatchPatch.SetLogAppendTime(batch, 424242);
        var h = new RecordBatchHeader(batch);
        Assert.True(h.IsCrcValid);
        Assert.Equal(TimestampType.LogAppendTime, h.TimestampType);
        Assert.Equal(424242, h.MaxTimestamp);
        Assert.Equal(777, h.BaseOffset);
        Assert.Equal(3, new RecordBatch(batch).ReadRecords().Count);
    }

    [Fact]
    public void RandomMutationsNeverThrowFromTheValidator()
    {
        byte[] original = SimpleBatch(CompressionType.None, 5);
        var random = new Random(11);
        var options = new RecordValidationOptions { ValidateRecords = true };
        for (int i = 0; i < 2000; i++)
        {
            byte[] copy = (byte[])original.Clone();
            for (int k = 0; k < 1 + random.Next(4); k++) copy[random.Next(copy.Length)] = (byte)random.Next(256);
            if (random.Next(2) == 0)
            {
                try { RecordBatchPatch.RecomputeCrc(copy); }
                catch (ArgumentOutOfRangeException) { } // mutated batchLength points past the buffer
            }
            _ = RecordBatchReader.ValidateProducePayload(copy, options);
        }
    }
}

using System.Buffers;
using FsCheck.Xunit;
using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Tests;

public sealed class PrimitiveTests
{
    private static string Encode(Action<KafkaWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(buffer);
        write(writer);
        Assert.Equal(buffer.WrittenCount, writer.BytesWritten);
        return Convert.ToHexString(buffer.WrittenSpan);
    }

    private static KafkaReader Reader(string hex) => new(CodecTestHelpers.Hex(hex));

    [Theory]
    [InlineData(0u, "00")]
    [InlineData(1u, "01")]
    [InlineData(127u, "7F")]
    [InlineData(128u, "8001")]
    [InlineData(300u, "AC02")]
    [InlineData(16383u, "FF7F")]
    [InlineData(16384u, "808001")]
    [InlineData(2097151u, "FFFF7F")]
    [InlineData(268435455u, "FFFFFF7F")]
    [InlineData(268435456u, "8080808001")]
    [InlineData(uint.MaxValue, "FFFFFFFF0F")]
    public void UnsignedVarInt(uint value, string hex)
    {
        Assert.Equal(hex, Encode(w => w.WriteUnsignedVarInt(value)));
        var reader = Reader(hex);
        Assert.Equal(value, reader.ReadUnsignedVarInt());
        Assert.Equal(0, reader.Remaining);
        Assert.Equal(hex.Length / 2, KafkaWriter.UnsignedVarIntSize(value));
    }

    [Theory]
    [InlineData(0, "00")]
    [InlineData(-1, "01")]
    [InlineData(1, "02")]
    [InlineData(-2, "03")]
    [InlineData(63, "7E")]
    [InlineData(-64, "7F")]
    [InlineData(64, "8001")]
    [InlineData(-65, "8101")]
    [InlineData(int.MaxValue, "FEFFFFFF0F")]
    [InlineData(int.MinValue, "FFFFFFFF0F")]
    public void ZigZagVarInt(int value, string hex)
    {
        Assert.Equal(hex, Encode(w => w.WriteVarInt(value)));
        Assert.Equal(value, Reader(hex).ReadVarInt());
    }

    [Theory]
    [InlineData(0L, "00")]
    [InlineData(-1L, "01")]
    [InlineData(1L, "02")]
    [InlineData(long.MaxValue, "FEFFFFFFFFFFFFFFFF01")]
    [InlineData(long.MinValue, "FFFFFFFFFFFFFFFFFF01")]
    [InlineData(2147483648L, "8080808010")]
    public void ZigZagVarLong(long value, string hex)
    {
        Assert.Equal(hex, Encode(w => w.WriteVarLong(value)));
        Assert.Equal(value, Reader(hex).ReadVarLong());
    }

    [Property]
    public bool VarIntRoundTrips(int value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new KafkaWriter(buffer).WriteVarInt(value);
        return new KafkaReader(buffer.WrittenMemory).ReadVarInt() == value;
    }

    [Property]
    public bool VarLongRoundTrips(long value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        new KafkaWriter(buffer).WriteVarLong(value);
        return new KafkaReader(buffer.WrittenMemory).ReadVarLong() == value;
    }

    [Property]
    public bool CompactNullableStringRoundTrips(string? value)
    {
        // Lone surrogates are not representable in UTF-8; Kafka strings are UTF-8.
        if (value is not null && value.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')) return true;
        var buffer = new ArrayBufferWriter<byte>();
        new KafkaWriter(buffer).WriteCompactNullableString(value);
        return new KafkaReader(buffer.WrittenMemory).ReadCompactNullableString() == value;
    }

    [Fact]
    public void FixedWidthIntegersAreBigEndian()
    {
        Assert.Equal("FE", Encode(w => w.WriteInt8(-2)));
        Assert.Equal("FFFE", Encode(w => w.WriteInt16(-2)));
        Assert.Equal("FFFE", Encode(w => w.WriteUInt16(65534)));
        Assert.Equal("01020304", Encode(w => w.WriteInt32(0x01020304)));
        Assert.Equal("FFFFFFFE", Encode(w => w.WriteUInt32(uint.MaxValue - 1)));
        Assert.Equal("0102030405060708", Encode(w => w.WriteInt64(0x0102030405060708)));
        Assert.Equal("3FF0000000000000", Encode(w => w.WriteFloat64(1.0)));
        Assert.Equal("0100", Encode(w => { w.WriteBool(true); w.WriteBool(false); }));

        var reader = Reader("FE FFFE FFFE 01020304 FFFFFFFE 0102030405060708 3FF0000000000000 01 00");
        Assert.Equal(-2, reader.ReadInt8());
        Assert.Equal(-2, reader.ReadInt16());
        Assert.Equal(65534, reader.ReadUInt16());
        Assert.Equal(0x01020304, reader.ReadInt32());
        Assert.Equal(uint.MaxValue - 1, reader.ReadUInt32());
        Assert.Equal(0x0102030405060708, reader.ReadInt64());
        Assert.Equal(1.0, reader.ReadFloat64());
        Assert.True(reader.ReadBool());
        Assert.False(reader.ReadBool());
        Assert.Equal(0, reader.Remaining);
    }

    [Fact]
    public void UuidIsSixteenBytesMostSignificantFirst()
    {
        var id = Guid.Parse("00112233-4455-6677-8899-aabbccddeeff");
        Assert.Equal("00112233445566778899AABBCCDDEEFF", Encode(w => w.WriteUuid(id)));
        Assert.Equal(id, Reader("00112233445566778899AABBCCDDEEFF").ReadUuid());
        Assert.Equal(Guid.Empty, Reader("00000000000000000000000000000000").ReadUuid());
    }

    [Fact]
    public void StringsAndTheirNullForms()
    {
        Assert.Equal("0003616263", Encode(w => w.WriteString("abc")));
        Assert.Equal("0000", Encode(w => w.WriteString("")));
        Assert.Equal("FFFF", Encode(w => w.WriteNullableString(null)));
        Assert.Equal("04616263", Encode(w => w.WriteCompactString("abc")));
        Assert.Equal("01", Encode(w => w.WriteCompactString("")));
        Assert.Equal("00", Encode(w => w.WriteCompactNullableString(null)));
        Assert.Equal("0002C3A9", Encode(w => w.WriteString("é")));

        Assert.Equal("abc", Reader("0003616263").ReadString());
        Assert.Null(Reader("FFFF").ReadNullableString());
        Assert.Equal("abc", Reader("04616263").ReadCompactString());
        Assert.Null(Reader("00").ReadCompactNullableString());
        Assert.Equal("", Reader("01").ReadCompactNullableString());
        Assert.Throws<ProtocolException>(() => Reader("FFFF").ReadString());
        Assert.Throws<ProtocolException>(() => Reader("00").ReadCompactString());
    }

    [Fact]
    public void BytesRecordsAndArrayLengths()
    {
        Assert.Equal("000000020102", Encode(w => w.WriteBytes([1, 2])));
        Assert.Equal("FFFFFFFF", Encode(w => w.WriteNullableBytes(null)));
        Assert.Equal("030102", Encode(w => w.WriteCompactBytes([1, 2])));
        Assert.Equal("00", Encode(w => w.WriteCompactNullableBytes(null)));
        Assert.Equal("FFFFFFFF", Encode(w => w.WriteRecords(null, compact: false)));
        Assert.Equal("00", Encode(w => w.WriteRecords(null, compact: true)));
        Assert.Equal("0201", Encode(w => w.WriteRecords(new byte[] { 1 }, compact: true)));
        Assert.Equal("FFFFFFFF", Encode(w => w.WriteArrayLength(-1, compact: false)));
        Assert.Equal("00", Encode(w => w.WriteArrayLength(-1, compact: true)));
        Assert.Equal("04", Encode(w => w.WriteArrayLength(3, compact: true)));

        Assert.Equal([1, 2], Reader("000000020102").ReadBytes());
        Assert.Null(Reader("FFFFFFFF").ReadNullableBytes());
        Assert.Equal([1, 2], Reader("030102").ReadCompactBytes());
        Assert.Null(Reader("00").ReadCompactNullableBytes());
        Assert.Null(Reader("FFFFFFFF").ReadRecords(compact: false));
        Assert.Null(Reader("00").ReadRecords(compact: true));
        Assert.Equal(-1, Reader("FFFFFFFF").ReadArrayLength(compact: false));
        Assert.Equal(-1, Reader("00").ReadArrayLength(compact: true));
    }

    [Fact]
    public void RecordsAreSlicesOfTheInputNotCopies()
    {
        var input = CodecTestHelpers.Hex("00000003 AABBCC");
        var records = new KafkaReader(input).ReadRecords(compact: false)!.Value;
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(records, out var segment));
        Assert.Same(input, segment.Array);
        Assert.Equal(4, segment.Offset);
        Assert.Equal(3, segment.Count);
    }

    [Fact]
    public void TaggedFieldSectionIsSkipped()
    {
        // Two tagged fields: tag 0 size 1, tag 200 (varint C801) size 2; then a trailing int8.
        var reader = Reader("02 00 01 AA C801 02 BBCC 7F");
        reader.SkipTaggedFields();
        Assert.Equal(127, reader.ReadInt8());
    }

    [Theory]
    [InlineData("808080808001")] // 6-byte varint
    [InlineData("8080")] // truncated varint
    [InlineData("")]
    public void MalformedUnsignedVarIntIsRejected(string hex) =>
        Assert.Throws<ProtocolException>(() => Reader(hex).ReadUnsignedVarInt());

    [Fact]
    public void TooLongVarLongIsRejected() =>
        Assert.Throws<ProtocolException>(() => Reader("8080808080808080808001").ReadVarLong());

    [Theory]
    [InlineData("FFFE")] // -2
    [InlineData("8000")] // -32768
    [InlineData("0005616263")] // longer than the input
    [InlineData("00")] // truncated length
    public void MalformedStringsAreRejected(string hex) =>
        Assert.Throws<ProtocolException>(() => Reader(hex).ReadNullableString());

    [Theory]
    [InlineData("FFFFFFFE")]
    [InlineData("80000000")]
    [InlineData("7FFFFFFF")]
    [InlineData("0000000501")]
    public void MalformedBytesAndRecordsAreRejected(string hex)
    {
        Assert.Throws<ProtocolException>(() => Reader(hex).ReadNullableBytes());
        Assert.Throws<ProtocolException>(() => Reader(hex).ReadRecords(compact: false));
    }

    [Fact]
    public void HugeCountsFailBeforeAllocating()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ProtocolException>(() => Reader("77359400 00").ReadArrayLength(compact: false)); // 2,000,000,000
        Assert.Throws<ProtocolException>(() => Reader("FFFFFFFF0F").ReadArrayLength(compact: true));
        Assert.Throws<ProtocolException>(() => Reader("FFFFFFFF0F").ReadCompactNullableBytes());
        Assert.Throws<ProtocolException>(() => Reader("FFFFFFFF0F").ReadCompactNullableString());
        Assert.Throws<ProtocolException>(() => Reader("FFFFFFFF0F").ReadRecords(compact: true));
        Assert.Throws<ProtocolException>(() => Reader("02 00 FFFFFFFF0F").SkipTaggedFields());
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void TruncatedFixedWidthReadsAreRejected()
    {
        Assert.Throws<ProtocolException>(() => Reader("").ReadInt8());
        Assert.Throws<ProtocolException>(() => Reader("01").ReadInt16());
        Assert.Throws<ProtocolException>(() => Reader("010203").ReadInt32());
        Assert.Throws<ProtocolException>(() => Reader("01020304050607").ReadInt64());
        Assert.Throws<ProtocolException>(() => Reader("0102").ReadUuid());
        Assert.Throws<ProtocolException>(() => Reader("01").Skip(2));
        Assert.Throws<ProtocolException>(() => Reader("01").Skip(-1));
    }

    [Fact]
    public void WriterRejectsOverlongStrings()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new KafkaWriter(buffer);
        Assert.Throws<ProtocolException>(() => writer.WriteString(new string('x', 40000)));
        Assert.Throws<ProtocolException>(() => writer.WriteCompactString(new string('x', 40000)));
    }
}

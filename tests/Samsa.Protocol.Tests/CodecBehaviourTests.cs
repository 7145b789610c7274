using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Tests;

[ApiMessage(ApiKey.Metadata, MessageKind.Data, "0-3", "2+")]
public sealed class CodecProbe
{
    [Field("0+")] public int A { get; set; }
    [Field("1+")] public string B { get; set; } = "";
    [Field("1+", Ignorable = true)] public long C { get; set; }
    [Field("0+", NullableVersions = "1+")] public string? D { get; set; } = "";
    [Field("2+", NullableVersions = "2+")] public Position? Cursor { get; set; }
    [Field("0+")] public List<int> Numbers { get; set; } = [];
    [Field("2+", Tag = 5, TaggedVersions = "2+", NullableVersions = "2+")] public string? Note { get; set; }
    [Field("2+", Tag = 0, TaggedVersions = "2+")] public int Hint { get; set; } = -1;
    [Field("2+", Tag = 1, TaggedVersions = "2+")] public Position Leader { get; set; } = new();

    public sealed class Position
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public int Partition { get; set; } = -1;
    }
}

public sealed class CodecBehaviourTests
{
    private static string Hex(object message, short version) => Convert.ToHexString(CodecTestHelpers.Encode(message, version));

    private static CodecProbe Read(string hex, short version)
    {
        var reader = new KafkaReader(CodecTestHelpers.Hex(hex));
        var probe = MessageCodec.Read<CodecProbe>(reader, version);
        Assert.Equal(0, reader.Remaining);
        return probe;
    }

    [Fact]
    public void NonFlexibleVersionUsesClassicEncodings()
    {
        var probe = new CodecProbe { A = 1, D = "x", Numbers = [7] };
        Assert.Equal("00000001" + "000178" + "00000001" + "00000007", Hex(probe, 0));
    }

    [Fact]
    public void NonIgnorableFieldAbsentFromVersionMustBeDefault()
    {
        var error = Assert.Throws<ProtocolException>(() => Hex(new CodecProbe { B = "set" }, 0));
        Assert.Equal(ErrorCode.UnsupportedVersion, error.ErrorCode);
        Assert.Throws<ProtocolException>(() => Hex(new CodecProbe { Hint = 3 }, 1));
        Assert.Throws<ProtocolException>(() => Hex(new CodecProbe { Leader = new() { Partition = 2 } }, 1));
    }

    [Fact]
    public void IgnorableFieldIsDroppedAndAbsentFieldsReadAsDefault()
    {
        var read = Read(Hex(new CodecProbe { C = 99, A = 4 }, 0), 0);
        Assert.Equal(0, read.C);
        Assert.Equal(4, read.A);
        Assert.Equal("", read.B);
        Assert.Equal(-1, read.Hint);
    }

    [Fact]
    public void NullabilityFollowsNullableVersions()
    {
        Assert.Throws<ProtocolException>(() => Hex(new CodecProbe { D = null }, 0));
        Assert.Throws<ProtocolException>(() => Hex(new CodecProbe { Numbers = null! }, 1));
        Assert.Null(Read(Hex(new CodecProbe { D = null }, 1), 1).D);
        // Reading null where the version does not allow it is malformed input.
        Assert.Throws<ProtocolException>(() => Read("00000000" + "FFFF" + "00000000", 0));
    }

    [Fact]
    public void FlexibleVersionUsesCompactEncodingsAndOmitsDefaultTaggedFields()
    {
        var probe = new CodecProbe { A = 1, B = "b", D = null, Numbers = [7] };
        // A, compact "b", C, compact null D, null cursor marker, compact array [7], empty tagged section
        Assert.Equal("00000001" + "0262" + "0000000000000000" + "00" + "FF" + "02" + "00000007" + "00", Hex(probe, 2));
    }

    [Fact]
    public void NullableSingleStructUsesAnInt8Marker()
    {
        var probe = new CodecProbe { Cursor = new() { Topic = "t", Partition = 3 } };
        string hex = Hex(probe, 2);
        Assert.Equal("00000000" + "01" + "0000000000000000" + "01" + "01" + "0274" + "00000003" + "00" + "01" + "00", hex);
        var read = Read(hex, 2);
        Assert.Equal("t", read.Cursor!.Topic);
        Assert.Equal(3, read.Cursor.Partition);
    }

    [Fact]
    public void TaggedFieldsAreWrittenInAscendingTagOrder()
    {
        var probe = new CodecProbe { Note = "n", Hint = 9, Leader = new() { Topic = "t", Partition = 1 } };
        string hex = Hex(probe, 2);
        string tagged = "03"
            + "00" + "04" + "00000009"            // tag 0 Hint
            + "01" + "07" + "0274" + "00000001" + "00" // tag 1 Leader struct (its own tag section)
            + "05" + "02" + "026E";               // tag 5 Note
        Assert.EndsWith(tagged, hex);
        var read = Read(hex, 2);
        Assert.Equal("n", read.Note);
        Assert.Equal(9, read.Hint);
        Assert.Equal("t", read.Leader.Topic);
    }

    [Fact]
    public void UnknownTagsAreSkipped()
    {
        string body = "00000001" + "0262" + "0000000000000000" + "01" + "FF" + "01";
        var read = Read(body + "02" + "00" + "04" + "00000009" + "07" + "03" + "AABBCC", 2);
        Assert.Equal(9, read.Hint);
        Assert.Equal("b", read.B);
    }

    [Fact]
    public void TaggedValueCannotReadPastItsDeclaredSize()
    {
        string body = "00000001" + "0262" + "0000000000000000" + "01" + "FF" + "01";
        // Tag 0 (int32) declared with size 2 but the int32 needs 4 bytes.
        Assert.Throws<ProtocolException>(() => Read(body + "01" + "00" + "02" + "0000" + "0000", 2));
    }

    [Fact]
    public void UnsupportedVersionsAreRejected()
    {
        var error = Assert.Throws<ProtocolException>(() => MessageCodec.Read<CodecProbe>(new KafkaReader(new byte[16]), 4));
        Assert.Equal(ErrorCode.UnsupportedVersion, error.ErrorCode);
        Assert.Throws<ProtocolException>(() => Hex(new CodecProbe(), -1));
    }

    [Fact]
    public void GenericAndNonGenericApisAgree()
    {
        var probe = new CodecProbe { A = 5, B = "q", Numbers = [1, 2] };
        var generic = new System.Buffers.ArrayBufferWriter<byte>();
        MessageCodec.Write(new KafkaWriter(generic), probe, 3);
        Assert.Equal(Hex(probe, 3), Convert.ToHexString(generic.WrittenSpan));
        var read = (CodecProbe)MessageCodec.Read(typeof(CodecProbe), new KafkaReader(generic.WrittenMemory), 3);
        Assert.Equal([1, 2], read.Numbers);
    }
}

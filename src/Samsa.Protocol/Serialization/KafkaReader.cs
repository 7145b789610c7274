using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// Reads Kafka wire primitives from a contiguous buffer. Every read is bounds-checked and throws
/// <see cref="ProtocolException"/> on malformed input; no allocation is sized from an untrusted length
/// before that length has been checked against <see cref="Remaining"/>.
/// Records are returned as slices of the input, not copies: they stay valid as long as the input does.
/// </summary>
public sealed class KafkaReader
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private int _position;

    public KafkaReader(ReadOnlyMemory<byte> buffer) => _buffer = buffer;

    public KafkaReader(byte[] buffer) => _buffer = buffer;

    /// <summary>Bytes consumed so far.</summary>
    public int Position => _position;

    public int Remaining => _buffer.Length - _position;

    public int Length => _buffer.Length;

    /// <summary>The unread part of the input.</summary>
    public ReadOnlyMemory<byte> RemainingMemory => _buffer[_position..];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _position)) ThrowTruncated(count);
        var span = _buffer.Span.Slice(_position, count);
        _position += count;
        return span;
    }

    private ReadOnlyMemory<byte> TakeMemory(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _position)) ThrowTruncated(count);
        var memory = _buffer.Slice(_position, count);
        _position += count;
        return memory;
    }

    private void ThrowTruncated(int count) =>
        throw new ProtocolException($"Truncated input: needed {count} bytes at position {_position}, {Remaining} remain.");

    public void Skip(int count) => Take(count);

    public ReadOnlyMemory<byte> ReadRaw(int count) => TakeMemory(count);

    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    public bool ReadBool() => Take(1)[0] != 0;

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    /// <summary>A Kafka UUID: 16 bytes, most significant first (maps to <see cref="Guid"/> in big-endian form).</summary>
    public Guid ReadUuid() => new(Take(16), bigEndian: true);

    /// <summary>Unsigned LEB128 varint of at most 5 bytes (as Kafka's ByteUtils.readUnsignedVarint).</summary>
    public uint ReadUnsignedVarInt()
    {
        uint value = 0;
        for (int shift = 0; shift <= 28; shift += 7)
        {
            byte b = Take(1)[0];
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new ProtocolException("Varint is too long (more than 5 bytes).");
    }

    /// <summary>Unsigned LEB128 varlong of at most 10 bytes.</summary>
    public ulong ReadUnsignedVarLong()
    {
        ulong value = 0;
        for (int shift = 0; shift <= 63; shift += 7)
        {
            byte b = Take(1)[0];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new ProtocolException("Varlong is too long (more than 10 bytes).");
    }

    /// <summary>Zig-zag encoded signed 32-bit varint.</summary>
    public int ReadVarInt()
    {
        uint raw = ReadUnsignedVarInt();
        return (int)(raw >> 1) ^ -(int)(raw & 1);
    }

    /// <summary>Zig-zag encoded signed 64-bit varlong.</summary>
    public long ReadVarLong()
    {
        ulong raw = ReadUnsignedVarLong();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>Length of a compact (flexible) field: -1 for null, else a checked non-negative length.</summary>
    private int ReadCompactLength(string what)
    {
        uint raw = ReadUnsignedVarInt();
        if (raw == 0) return -1;
        uint length = raw - 1;
        if (length > (uint)Remaining)
            throw new ProtocolException($"{what} length {length} exceeds the {Remaining} remaining bytes.");
        return (int)length;
    }

    private int CheckLength(int length, string what)
    {
        if (length < -1) throw new ProtocolException($"Negative {what} length {length}.");
        if (length > Remaining) throw new ProtocolException($"{what} length {length} exceeds the {Remaining} remaining bytes.");
        return length;
    }

    private string DecodeString(int length)
    {
        // Invalid UTF-8 is replaced with U+FFFD, as Java's String(byte[], UTF_8) does in Kafka.
        return Encoding.UTF8.GetString(Take(length));
    }

    public string? ReadNullableString()
    {
        int length = CheckLength(ReadInt16(), "string");
        return length < 0 ? null : DecodeString(length);
    }

    public string ReadString() =>
        ReadNullableString() ?? throw new ProtocolException("Non-nullable string was null.");

    public string? ReadCompactNullableString()
    {
        int length = ReadCompactLength("String");
        if (length > short.MaxValue) throw new ProtocolException($"Compact string length {length} exceeds 32767.");
        return length < 0 ? null : DecodeString(length);
    }

    public string ReadCompactString() =>
        ReadCompactNullableString() ?? throw new ProtocolException("Non-nullable compact string was null.");

    public byte[]? ReadNullableBytes()
    {
        int length = CheckLength(ReadInt32(), "bytes");
        return length < 0 ? null : Take(length).ToArray();
    }

    public byte[] ReadBytes() => ReadNullableBytes() ?? throw new ProtocolException("Non-nullable bytes were null.");

    public byte[]? ReadCompactNullableBytes()
    {
        int length = ReadCompactLength("Bytes");
        return length < 0 ? null : Take(length).ToArray();
    }

    public byte[] ReadCompactBytes() =>
        ReadCompactNullableBytes() ?? throw new ProtocolException("Non-nullable compact bytes were null.");

    /// <summary>A records field (int32 or compact length, then the batches) as a slice of the input; null for length -1.</summary>
    public ReadOnlyMemory<byte>? ReadRecords(bool compact)
    {
        int length = compact ? ReadCompactLength("Records") : CheckLength(ReadInt32(), "records");
        return length < 0 ? (ReadOnlyMemory<byte>?)null : TakeMemory(length);
    }

    /// <summary>
    /// An array element count: -1 for null. A count larger than the remaining bytes is rejected
    /// (every element takes at least one byte), so callers may size a collection from it.
    /// </summary>
    public int ReadArrayLength(bool compact)
    {
        if (compact) return ReadCompactLength("Array");
        int count = ReadInt32();
        if (count < -1) throw new ProtocolException($"Negative array length {count}.");
        if (count > Remaining) throw new ProtocolException($"Array length {count} exceeds the {Remaining} remaining bytes.");
        return count;
    }

    /// <summary>Skips a whole tagged-field section (count, then tag/size/data triples).</summary>
    public void SkipTaggedFields()
    {
        uint count = ReadUnsignedVarInt();
        for (uint i = 0; i < count; i++)
        {
            ReadUnsignedVarInt();
            Skip(ReadTaggedFieldSize());
        }
    }

    /// <summary>Size of one tagged field's data, checked against the remaining bytes.</summary>
    public int ReadTaggedFieldSize()
    {
        uint size = ReadUnsignedVarInt();
        if (size > (uint)Remaining) throw new ProtocolException($"Tagged field size {size} exceeds the {Remaining} remaining bytes.");
        return (int)size;
    }
}

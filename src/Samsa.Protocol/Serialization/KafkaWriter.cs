using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// Writes Kafka wire primitives to an <see cref="IBufferWriter{T}"/>. Values a format cannot carry
/// (a string longer than int16 allows, null where a method does not accept it) throw <see cref="ProtocolException"/>.
/// </summary>
public sealed class KafkaWriter(IBufferWriter<byte> output)
{
    // Raw payloads are copied in pieces of at most this size, so a 1 MiB records field spans the output's segments
    // instead of asking a PipeWriter for one contiguous block.
    private const int RawChunk = 64 * 1024;

    private readonly IBufferWriter<byte> _output = output;

    // A size pass only counts: raw payloads such as fetched records are not copied anywhere.
    private readonly bool _countOnly = output is ByteCounter;

    /// <summary>Bytes written through this writer.</summary>
    public long BytesWritten { get; private set; }

    public IBufferWriter<byte> Output => _output;

    private Span<byte> Reserve(int count) => _output.GetSpan(count);

    private void Commit(int count)
    {
        _output.Advance(count);
        BytesWritten += count;
    }

    public void WriteRaw(ReadOnlySpan<byte> data)
    {
        if (_countOnly)
        {
            Commit(data.Length);
            return;
        }
        while (!data.IsEmpty)
        {
            var span = Reserve(Math.Min(data.Length, RawChunk));
            int n = Math.Min(span.Length, data.Length);
            data[..n].CopyTo(span);
            Commit(n);
            data = data[n..];
        }
    }

    public void WriteInt8(sbyte value)
    {
        Reserve(1)[0] = (byte)value;
        Commit(1);
    }

    public void WriteBool(bool value)
    {
        Reserve(1)[0] = value ? (byte)1 : (byte)0;
        Commit(1);
    }

    public void WriteInt16(short value)
    {
        BinaryPrimitives.WriteInt16BigEndian(Reserve(2), value);
        Commit(2);
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), value);
        Commit(2);
    }

    public void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);
        Commit(4);
    }

    public void WriteUInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);
        Commit(4);
    }

    public void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64BigEndian(Reserve(8), value);
        Commit(8);
    }

    public void WriteFloat64(double value)
    {
        BinaryPrimitives.WriteDoubleBigEndian(Reserve(8), value);
        Commit(8);
    }

    public void WriteUuid(Guid value)
    {
        value.TryWriteBytes(Reserve(16), bigEndian: true, out _);
        Commit(16);
    }

    public void WriteUnsignedVarInt(uint value)
    {
        var span = Reserve(5);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        Commit(i);
    }

    public void WriteUnsignedVarLong(ulong value)
    {
        var span = Reserve(10);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        Commit(i);
    }

    /// <summary>Zig-zag encoded signed 32-bit varint.</summary>
    public void WriteVarInt(int value) => WriteUnsignedVarInt((uint)((value << 1) ^ (value >> 31)));

    /// <summary>Zig-zag encoded signed 64-bit varlong.</summary>
    public void WriteVarLong(long value) => WriteUnsignedVarLong((ulong)((value << 1) ^ (value >> 63)));

    public static int UnsignedVarIntSize(uint value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }

    public void WriteString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteNullableString(value);
    }

    public void WriteNullableString(string? value)
    {
        if (value is null)
        {
            WriteInt16(-1);
            return;
        }
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > short.MaxValue) throw new ProtocolException($"String of {length} bytes is too long for an int16 length.");
        var span = Reserve(2 + length);
        BinaryPrimitives.WriteInt16BigEndian(span, (short)length);
        Encoding.UTF8.GetBytes(value, span[2..]);
        Commit(2 + length);
    }

    public void WriteCompactString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        WriteCompactNullableString(value);
    }

    public void WriteCompactNullableString(string? value)
    {
        if (value is null)
        {
            WriteUnsignedVarInt(0);
            return;
        }
        int length = Encoding.UTF8.GetByteCount(value);
        if (length > short.MaxValue) throw new ProtocolException($"String of {length} bytes is too long.");
        WriteUnsignedVarInt((uint)length + 1);
        var span = Reserve(length);
        Encoding.UTF8.GetBytes(value, span);
        Commit(length);
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteInt32(value.Length);
        WriteRaw(value);
    }

    public void WriteNullableBytes(byte[]? value)
    {
        if (value is null) WriteInt32(-1);
        else WriteBytes(value);
    }

    public void WriteCompactBytes(ReadOnlySpan<byte> value)
    {
        WriteUnsignedVarInt((uint)value.Length + 1);
        WriteRaw(value);
    }

    public void WriteCompactNullableBytes(byte[]? value)
    {
        if (value is null) WriteUnsignedVarInt(0);
        else WriteCompactBytes(value);
    }

    /// <summary>A records field: int32 or compact length (null as -1 / 0), then the bytes unchanged.</summary>
    public void WriteRecords(ReadOnlyMemory<byte>? value, bool compact)
    {
        if (value is not { } records)
        {
            if (compact) WriteUnsignedVarInt(0);
            else WriteInt32(-1);
            return;
        }
        if (compact) WriteCompactBytes(records.Span);
        else WriteBytes(records.Span);
    }

    /// <summary>An array element count; -1 writes the null array.</summary>
    public void WriteArrayLength(int count, bool compact)
    {
        if (count < -1) throw new ArgumentOutOfRangeException(nameof(count));
        if (compact) WriteUnsignedVarInt((uint)(count + 1));
        else WriteInt32(count);
    }

    /// <summary>An empty tagged-field section (a single zero varint).</summary>
    public void WriteEmptyTaggedFields() => WriteUnsignedVarInt(0);

    /// <summary>One tagged field: tag, size, data. The caller writes the count first.</summary>
    public void WriteTaggedField(int tag, ReadOnlySpan<byte> data)
    {
        WriteUnsignedVarInt((uint)tag);
        WriteUnsignedVarInt((uint)data.Length);
        WriteRaw(data);
    }
}

using System.Runtime.CompilerServices;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// Reads and writes one value of a CLR type in the encoding fixed by a (version, flexible, nullable) context.
/// Instances are immutable and cached inside struct plans; typed so primitives are never boxed.
/// </summary>
internal abstract class ValueCodec<T>
{
    public abstract T Read(KafkaReader reader);

    public abstract void Write(KafkaWriter writer, T value);
}

internal static class ValueCodecs
{
    /// <summary>Builds the codec for <paramref name="type"/>; returns a ValueCodec&lt;type&gt;.</summary>
    public static object Create(Type type, short version, bool flexible, bool nullable, string name)
    {
        if (type == typeof(bool)) return BoolCodec.Instance;
        if (type == typeof(sbyte)) return Int8Codec.Instance;
        if (type == typeof(short)) return Int16Codec.Instance;
        if (type == typeof(ushort)) return UInt16Codec.Instance;
        if (type == typeof(int)) return Int32Codec.Instance;
        if (type == typeof(uint)) return UInt32Codec.Instance;
        if (type == typeof(long)) return Int64Codec.Instance;
        if (type == typeof(double)) return Float64Codec.Instance;
        if (type == typeof(Guid)) return UuidCodec.Instance;
        if (type == typeof(string)) return new StringCodec(flexible, nullable, name);
        if (type == typeof(byte[])) return new BytesCodec(flexible, nullable, name);
        if (type == typeof(ReadOnlyMemory<byte>?)) return new RecordsCodec(flexible, nullable, name);
        if (type == typeof(ReadOnlyMemory<byte>)) return new NonNullRecordsCodec(flexible);
        if (type.IsEnum)
        {
            var underlying = Enum.GetUnderlyingType(type);
            var inner = Create(underlying, version, flexible, nullable: false, name);
            return Activator.CreateInstance(typeof(EnumCodec<,>).MakeGenericType(type, underlying), inner)!;
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var elementType = type.GetGenericArguments()[0];
            var element = Create(elementType, version, flexible, nullable: false, name + "[]");
            return Activator.CreateInstance(typeof(ListCodec<>).MakeGenericType(elementType), element, flexible, nullable, name)!;
        }
        if (StructPlans.IsStruct(type))
            return Activator.CreateInstance(typeof(StructCodec<>).MakeGenericType(type), version, flexible, nullable, name)!;
        throw new InvalidOperationException($"Field {name}: CLR type {type} has no Kafka wire mapping.");
    }

    internal static ProtocolException NullNotAllowed(string name) =>
        new($"Field {name} is not nullable in this version but is null.");
}

internal sealed class BoolCodec : ValueCodec<bool>
{
    public static readonly BoolCodec Instance = new();
    public override bool Read(KafkaReader reader) => reader.ReadBool();
    public override void Write(KafkaWriter writer, bool value) => writer.WriteBool(value);
}

internal sealed class Int8Codec : ValueCodec<sbyte>
{
    public static readonly Int8Codec Instance = new();
    public override sbyte Read(KafkaReader reader) => reader.ReadInt8();
    public override void Write(KafkaWriter writer, sbyte value) => writer.WriteInt8(value);
}

internal sealed class Int16Codec : ValueCodec<short>
{
    public static readonly Int16Codec Instance = new();
    public override short Read(KafkaReader reader) => reader.ReadInt16();
    public override void Write(KafkaWriter writer, short value) => writer.WriteInt16(value);
}

internal sealed class UInt16Codec : ValueCodec<ushort>
{
    public static readonly UInt16Codec Instance = new();
    public override ushort Read(KafkaReader reader) => reader.ReadUInt16();
    public override void Write(KafkaWriter writer, ushort value) => writer.WriteUInt16(value);
}

internal sealed class Int32Codec : ValueCodec<int>
{
    public static readonly Int32Codec Instance = new();
    public override int Read(KafkaReader reader) => reader.ReadInt32();
    public override void Write(KafkaWriter writer, int value) => writer.WriteInt32(value);
}

internal sealed class UInt32Codec : ValueCodec<uint>
{
    public static readonly UInt32Codec Instance = new();
    public override uint Read(KafkaReader reader) => reader.ReadUInt32();
    public override void Write(KafkaWriter writer, uint value) => writer.WriteUInt32(value);
}

internal sealed class Int64Codec : ValueCodec<long>
{
    public static readonly Int64Codec Instance = new();
    public override long Read(KafkaReader reader) => reader.ReadInt64();
    public override void Write(KafkaWriter writer, long value) => writer.WriteInt64(value);
}

internal sealed class Float64Codec : ValueCodec<double>
{
    public static readonly Float64Codec Instance = new();
    public override double Read(KafkaReader reader) => reader.ReadFloat64();
    public override void Write(KafkaWriter writer, double value) => writer.WriteFloat64(value);
}

internal sealed class UuidCodec : ValueCodec<Guid>
{
    public static readonly UuidCodec Instance = new();
    public override Guid Read(KafkaReader reader) => reader.ReadUuid();
    public override void Write(KafkaWriter writer, Guid value) => writer.WriteUuid(value);
}

/// <summary>An enum property carried as its underlying integer type (e.g. an int16 error code as <see cref="ErrorCode"/>).</summary>
internal sealed class EnumCodec<TEnum, TUnderlying>(ValueCodec<TUnderlying> inner) : ValueCodec<TEnum>
    where TEnum : struct, Enum
    where TUnderlying : struct
{
    public override TEnum Read(KafkaReader reader)
    {
        var raw = inner.Read(reader);
        return Unsafe.As<TUnderlying, TEnum>(ref raw);
    }

    public override void Write(KafkaWriter writer, TEnum value) => inner.Write(writer, Unsafe.As<TEnum, TUnderlying>(ref value));
}

internal sealed class StringCodec(bool flexible, bool nullable, string name) : ValueCodec<string>
{
    public override string Read(KafkaReader reader)
    {
        var value = flexible ? reader.ReadCompactNullableString() : reader.ReadNullableString();
        if (value is null && !nullable) throw new ProtocolException($"Non-nullable field {name} was serialized as null.");
        return value!;
    }

    public override void Write(KafkaWriter writer, string value)
    {
        if (value is null && !nullable) throw ValueCodecs.NullNotAllowed(name);
        if (flexible) writer.WriteCompactNullableString(value);
        else writer.WriteNullableString(value);
    }
}

internal sealed class BytesCodec(bool flexible, bool nullable, string name) : ValueCodec<byte[]>
{
    public override byte[] Read(KafkaReader reader)
    {
        var value = flexible ? reader.ReadCompactNullableBytes() : reader.ReadNullableBytes();
        if (value is null && !nullable) throw new ProtocolException($"Non-nullable field {name} was serialized as null.");
        return value!;
    }

    public override void Write(KafkaWriter writer, byte[] value)
    {
        if (value is null && !nullable) throw ValueCodecs.NullNotAllowed(name);
        if (flexible) writer.WriteCompactNullableBytes(value);
        else writer.WriteNullableBytes(value);
    }
}

internal sealed class RecordsCodec(bool flexible, bool nullable, string name) : ValueCodec<ReadOnlyMemory<byte>?>
{
    public override ReadOnlyMemory<byte>? Read(KafkaReader reader)
    {
        var value = reader.ReadRecords(flexible);
        if (value is null && !nullable) throw new ProtocolException($"Non-nullable field {name} was serialized as null.");
        return value;
    }

    public override void Write(KafkaWriter writer, ReadOnlyMemory<byte>? value)
    {
        if (value is null && !nullable) throw ValueCodecs.NullNotAllowed(name);
        writer.WriteRecords(value, flexible);
    }
}

internal sealed class NonNullRecordsCodec(bool flexible) : ValueCodec<ReadOnlyMemory<byte>>
{
    public override ReadOnlyMemory<byte> Read(KafkaReader reader) => reader.ReadRecords(flexible) ?? ReadOnlyMemory<byte>.Empty;

    public override void Write(KafkaWriter writer, ReadOnlyMemory<byte> value) => writer.WriteRecords(value, flexible);
}

internal sealed class ListCodec<TElement>(ValueCodec<TElement> element, bool flexible, bool nullable, string name)
    : ValueCodec<List<TElement>>
{
    public override List<TElement> Read(KafkaReader reader)
    {
        // ReadArrayLength has already checked the count against the remaining bytes.
        int count = reader.ReadArrayLength(flexible);
        if (count < 0)
        {
            if (!nullable) throw new ProtocolException($"Non-nullable field {name} was serialized as null.");
            return null!;
        }
        var list = new List<TElement>(count);
        for (int i = 0; i < count; i++) list.Add(element.Read(reader));
        return list;
    }

    public override void Write(KafkaWriter writer, List<TElement> value)
    {
        if (value is null)
        {
            if (!nullable) throw ValueCodecs.NullNotAllowed(name);
            writer.WriteArrayLength(-1, flexible);
            return;
        }
        writer.WriteArrayLength(value.Count, flexible);
        for (int i = 0; i < value.Count; i++) element.Write(writer, value[i]);
    }
}

/// <summary>
/// A single nested struct. When nullable in the version it is preceded by an int8 marker
/// (-1 = null, 1 = present), as Kafka's generated code does (e.g. DescribeTopicPartitions Cursor).
/// </summary>
internal sealed class StructCodec<TStruct>(short version, bool flexible, bool nullable, string name) : ValueCodec<TStruct>
    where TStruct : class, new()
{
    private StructPlan<TStruct>? _plan;

    private StructPlan<TStruct> Plan => _plan ??= StructPlans.Get<TStruct>(version, flexible);

    public override TStruct Read(KafkaReader reader)
    {
        if (nullable && reader.ReadInt8() < 0) return null!;
        return Plan.Read(reader);
    }

    public override void Write(KafkaWriter writer, TStruct value)
    {
        if (value is null)
        {
            if (!nullable) throw ValueCodecs.NullNotAllowed(name);
            writer.WriteInt8(-1);
            return;
        }
        if (nullable) writer.WriteInt8(1);
        Plan.Write(writer, value);
    }
}

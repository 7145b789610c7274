using System.Buffers;
using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;

namespace Samsa.Protocol.Serialization;

/// <summary>One [Field] property of a struct, bound to its codec for one (version, flexible) context.</summary>
internal abstract class FieldPlan<TOwner> where TOwner : class
{
    public required string Name { get; init; }
    public required int Tag { get; init; }
    public required bool Ignorable { get; init; }

    public abstract void Read(KafkaReader reader, TOwner owner);

    public abstract void Write(KafkaWriter writer, TOwner owner);

    public abstract bool HasDefaultValue(TOwner owner);
}

internal sealed class FieldPlan<TOwner, TValue>(
    Func<TOwner, TValue> get, Action<TOwner, TValue> set, ValueCodec<TValue>? codec, TValue defaultValue) : FieldPlan<TOwner>
    where TOwner : class
{
    public override void Read(KafkaReader reader, TOwner owner) => set(owner, codec!.Read(reader));

    public override void Write(KafkaWriter writer, TOwner owner) => codec!.Write(writer, get(owner));

    public override bool HasDefaultValue(TOwner owner) => ValueEquality<TValue>.AreEqual(get(owner), defaultValue);
}

/// <summary>
/// The compiled encoding of one struct class at one (version, flexible) context: the regular fields
/// present in the version in declaration order, the tagged fields by tag, and the fields absent from
/// the version that must hold their default when writing (non-ignorable ones).
/// </summary>
internal sealed class StructPlan<T> where T : class, new()
{
    private static readonly Func<T> _create = Expression.Lambda<Func<T>>(Expression.New(typeof(T))).Compile();

    private readonly FieldPlan<T>[] _regular;
    private readonly FieldPlan<T>[] _tagged;
    private readonly FieldPlan<T>[] _mustBeDefault;
    private readonly bool _flexible;

    public StructPlan(short version, bool flexible)
    {
        _flexible = flexible;
        var defaults = _create();
        var regular = new List<FieldPlan<T>>();
        var tagged = new List<FieldPlan<T>>();
        var absent = new List<FieldPlan<T>>();
        foreach (var (property, field) in StructPlans.FieldProperties(typeof(T)))
        {
            string name = field.Name ?? property.Name;
            bool present = field.Versions.Contains(version);
            bool isTagged = field.Tag >= 0 && VersionRange.Parse(field.TaggedVersions).Contains(version);
            if (isTagged && !flexible) present = false;
            bool nullable = VersionRange.Parse(field.NullableVersions).Contains(version);
            // Tagged fields always use the compact encodings: they only exist in flexible versions.
            var plan = CreateFieldPlan(property, name, field, present, version, flexible, nullable, defaults);
            if (!present)
            {
                if (!field.Ignorable) absent.Add(plan);
            }
            else if (isTagged) tagged.Add(plan);
            else regular.Add(plan);
        }
        _regular = [.. regular];
        _tagged = [.. tagged.OrderBy(f => f.Tag)];
        _mustBeDefault = [.. absent];
        for (int i = 1; i < _tagged.Length; i++)
            if (_tagged[i].Tag == _tagged[i - 1].Tag)
                throw new InvalidOperationException($"{typeof(T)}: duplicate tag {_tagged[i].Tag} at version {version}.");
    }

    private static FieldPlan<T> CreateFieldPlan(PropertyInfo property, string name, FieldAttribute field, bool present,
        short version, bool flexible, bool nullable, T defaults)
    {
        var method = typeof(StructPlan<T>).GetMethod(nameof(CreateTypedFieldPlan), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(property.PropertyType);
        try
        {
            return (FieldPlan<T>)method.Invoke(null, [property, name, field, present, version, flexible, nullable, defaults])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    private static FieldPlan<T> CreateTypedFieldPlan<TValue>(PropertyInfo property, string name, FieldAttribute field,
        bool present, short version, bool flexible, bool nullable, T defaults)
    {
        var getter = property.GetGetMethod()
            ?? throw new InvalidOperationException($"{typeof(T)}.{property.Name}: [Field] needs a public getter.");
        var setter = property.GetSetMethod()
            ?? throw new InvalidOperationException($"{typeof(T)}.{property.Name}: [Field] needs a public setter.");
        var get = getter.CreateDelegate<Func<T, TValue>>();
        var set = setter.CreateDelegate<Action<T, TValue>>();
        var codec = present ? (ValueCodec<TValue>)ValueCodecs.Create(typeof(TValue), version, flexible, nullable, name) : null;
        return new FieldPlan<T, TValue>(get, set, codec, get(defaults))
        {
            Name = name,
            Tag = field.Tag,
            Ignorable = field.Ignorable,
        };
    }

    public T Read(KafkaReader reader)
    {
        var value = _create();
        foreach (var field in _regular) field.Read(reader, value);
        if (_flexible) ReadTaggedFields(reader, value);
        return value;
    }

    private void ReadTaggedFields(KafkaReader reader, T value)
    {
        uint count = reader.ReadUnsignedVarInt();
        for (uint i = 0; i < count; i++)
        {
            uint tag = reader.ReadUnsignedVarInt();
            int size = reader.ReadTaggedFieldSize();
            var field = FindTagged(tag);
            if (field is null)
            {
                reader.Skip(size);
                continue;
            }
            // A bounded sub-reader: a tagged value can never read past its declared size.
            field.Read(new KafkaReader(reader.ReadRaw(size)), value);
        }
    }

    private FieldPlan<T>? FindTagged(uint tag)
    {
        foreach (var field in _tagged)
            if ((uint)field.Tag == tag) return field;
        return null;
    }

    public void Write(KafkaWriter writer, T value)
    {
        foreach (var field in _mustBeDefault)
            if (!field.HasDefaultValue(value))
                throw new ProtocolException(
                    $"{typeof(T).Name}.{field.Name} has a non-default value but is not supported by this version.",
                    ErrorCode.UnsupportedVersion);
        foreach (var field in _regular) field.Write(writer, value);
        if (_flexible) WriteTaggedFields(writer, value);
    }

    private void WriteTaggedFields(KafkaWriter writer, T value)
    {
        uint count = 0;
        foreach (var field in _tagged)
            if (!field.HasDefaultValue(value)) count++;
        writer.WriteUnsignedVarInt(count);
        if (count == 0) return;
        var buffer = new ArrayBufferWriter<byte>(64);
        var inner = new KafkaWriter(buffer);
        foreach (var field in _tagged)
        {
            if (field.HasDefaultValue(value)) continue;
            buffer.ResetWrittenCount();
            field.Write(inner, value);
            writer.WriteTaggedField(field.Tag, buffer.WrittenSpan);
        }
    }
}

internal static class StructPlans
{
    private static readonly ConcurrentDictionary<Type, (PropertyInfo Property, FieldAttribute Field)[]> _fields = new();

    /// <summary>The [Field] properties of a struct class in wire order.</summary>
    public static (PropertyInfo Property, FieldAttribute Field)[] FieldProperties(Type type) =>
        _fields.GetOrAdd(type, static t => [.. t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Field: p.GetCustomAttribute<FieldAttribute>()))
            .Where(x => x.Field is not null)
            .Select(x => (x.Property, x.Field!))
            .OrderBy(x => x.Item2.Order)]);

    public static bool IsStruct(Type type) =>
        type.IsClass && type != typeof(string) && !type.IsArray && type.GetConstructor(Type.EmptyTypes) is not null
        && FieldProperties(type).Length > 0;

    public static StructPlan<T> Get<T>(short version, bool flexible) where T : class, new() =>
        Cache<T>.Plans.GetOrAdd((version, flexible), static k => new StructPlan<T>(k.Version, k.Flexible));

    private static class Cache<T> where T : class, new()
    {
        public static readonly ConcurrentDictionary<(short Version, bool Flexible), StructPlan<T>> Plans = new();
    }
}

using System.Buffers;
using System.Reflection;
using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Tests;

/// <summary>Builds messages with random non-default values, honouring per-version presence and nullability.</summary>
internal sealed class RandomMessageFactory(Random random)
{
    public object Create(Type type, short version, bool flexible, int depth = 0)
    {
        var instance = Activator.CreateInstance(type)!;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<FieldAttribute>() is not { } field) continue;
            if (!field.Versions.Contains(version)) continue;
            bool tagged = field.Tag >= 0 && VersionRange.Parse(field.TaggedVersions).Contains(version);
            if (tagged && !flexible) continue;
            bool nullable = VersionRange.Parse(field.NullableVersions).Contains(version);
            property.SetValue(instance, Value(property.PropertyType, version, flexible, nullable, depth));
        }
        return instance;
    }

    private object? Value(Type type, short version, bool flexible, bool nullable, int depth)
    {
        bool isReference = !type.IsValueType || Nullable.GetUnderlyingType(type) is not null;
        if (nullable && isReference && random.Next(5) == 0) return null;
        if (type == typeof(bool)) return random.Next(2) == 0;
        if (type == typeof(sbyte)) return (sbyte)random.Next(sbyte.MinValue, sbyte.MaxValue + 1);
        if (type == typeof(short)) return (short)random.Next(short.MinValue, short.MaxValue + 1);
        if (type == typeof(ushort)) return (ushort)random.Next(ushort.MaxValue + 1);
        if (type == typeof(int)) return random.Next(int.MinValue, int.MaxValue);
        if (type == typeof(uint)) return (uint)random.NextInt64(uint.MaxValue + 1L);
        if (type == typeof(long)) return random.NextInt64(long.MinValue, long.MaxValue);
        if (type == typeof(double)) return random.NextDouble() * 1e6 - 5e5;
        if (type == typeof(Guid)) return Guid.NewGuid();
        if (type == typeof(string)) return RandomString();
        if (type == typeof(byte[])) return RandomBytes();
        if (type == typeof(ReadOnlyMemory<byte>?) || type == typeof(ReadOnlyMemory<byte>))
            return new ReadOnlyMemory<byte>(RandomBytes());
        if (type.IsEnum)
        {
            var values = Enum.GetValues(type);
            return values.GetValue(random.Next(values.Length));
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (System.Collections.IList)Activator.CreateInstance(type)!;
            int count = depth > 3 ? 0 : random.Next(4);
            var elementType = type.GetGenericArguments()[0];
            for (int i = 0; i < count; i++) list.Add(Value(elementType, version, flexible, false, depth + 1));
            return list;
        }
        return Create(type, version, flexible, depth + 1);
    }

    private string RandomString()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._é€";
        var chars = new char[random.Next(1, 12)];
        for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
        return new string(chars);
    }

    private byte[] RandomBytes()
    {
        var bytes = new byte[random.Next(0, 20)];
        random.NextBytes(bytes);
        return bytes;
    }
}

internal static class CodecTestHelpers
{
    public static byte[] Encode(object message, short version)
    {
        var buffer = new ArrayBufferWriter<byte>();
        MessageCodec.Write(new KafkaWriter(buffer), message, version);
        return buffer.WrittenSpan.ToArray();
    }

    public static IEnumerable<(Type Type, short Version)> AllTypesAndVersions() =>
        MessageRegistry.AllMessageTypes
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .SelectMany(t =>
            {
                var range = MessageRegistry.Info(t).ValidVersions;
                return Enumerable.Range(range.Min, range.Max - range.Min + 1).Select(v => (t, (short)v));
            });

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));
}

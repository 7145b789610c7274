using System.Reflection;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// Structural equality used to decide whether a field holds its default value (tagged fields are
/// written only when non-default; a non-ignorable field absent from a version must be default).
/// Lists and structs compare element-wise and field-wise, as Kafka's generated equals() does.
/// </summary>
internal static class ValueEquality<T>
{
    public static readonly Func<T, T, bool> AreEqual = Build();

    private static Func<T, T, bool> Build()
    {
        var type = typeof(T);
        if (type == typeof(byte[]))
            return (Func<T, T, bool>)(object)new Func<byte[]?, byte[]?, bool>(static (a, b) =>
                a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b));
        if (type == typeof(ReadOnlyMemory<byte>?))
            return (Func<T, T, bool>)(object)new Func<ReadOnlyMemory<byte>?, ReadOnlyMemory<byte>?, bool>(static (a, b) =>
                a is not { } x ? b is null : b is { } y && x.Span.SequenceEqual(y.Span));
        if (type == typeof(ReadOnlyMemory<byte>))
            return (Func<T, T, bool>)(object)new Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>, bool>(static (a, b) =>
                a.Span.SequenceEqual(b.Span));
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            var method = typeof(ValueEquality<T>).GetMethod(nameof(ListEquality), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(type.GetGenericArguments()[0]);
            return (Func<T, T, bool>)method.Invoke(null, null)!;
        }
        if (type.IsClass && type != typeof(string) && StructPlans.IsStruct(type))
        {
            var method = typeof(ValueEquality<T>).GetMethod(nameof(StructEquality), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(type);
            return (Func<T, T, bool>)method.Invoke(null, null)!;
        }
        var comparer = EqualityComparer<T>.Default;
        return comparer.Equals;
    }

    private static Func<List<TElement>?, List<TElement>?, bool> ListEquality<TElement>() => static (a, b) =>
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null || a.Count != b.Count) return false;
        var eq = ValueEquality<TElement>.AreEqual;
        for (int i = 0; i < a.Count; i++)
            if (!eq(a[i], b[i])) return false;
        return true;
    };

    private static Func<TStruct?, TStruct?, bool> StructEquality<TStruct>() where TStruct : class
    {
        var comparers = StructPlans.FieldProperties(typeof(TStruct))
            .Select(p => (Func<TStruct, TStruct, bool>)typeof(ValueEquality<T>)
                .GetMethod(nameof(PropertyEquality), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(typeof(TStruct), p.Property.PropertyType)
                .Invoke(null, [p.Property])!)
            .ToArray();
        return (a, b) =>
        {
            if (ReferenceEquals(a, b)) return true;
            if (a is null || b is null) return false;
            foreach (var c in comparers)
                if (!c(a, b)) return false;
            return true;
        };
    }

    private static Func<TOwner, TOwner, bool> PropertyEquality<TOwner, TValue>(PropertyInfo property)
    {
        var get = property.GetGetMethod()!.CreateDelegate<Func<TOwner, TValue>>();
        return (a, b) => ValueEquality<TValue>.AreEqual(get(a), get(b));
    }
}

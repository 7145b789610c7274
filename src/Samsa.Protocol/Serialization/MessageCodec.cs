using System.Collections.Concurrent;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// The single table-driven codec for every [ApiMessage] type. Per (type, version) it builds once a plan of
/// typed field codecs from the [Field] properties; reading and writing then walk that plan.
/// Flexible versions (from the top-level [ApiMessage], inherited by nested structs) use compact
/// encodings and a tagged-field section at the end of every struct.
/// </summary>
public static class MessageCodec
{
    private static readonly ConcurrentDictionary<Type, ITopLevel> _byType = new();

    public static T Read<T>(KafkaReader reader, short version) where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(reader);
        return TopLevel<T>.Plan(version).Read(reader);
    }

    public static object Read(Type type, KafkaReader reader, short version)
    {
        ArgumentNullException.ThrowIfNull(reader);
        return For(type).Read(reader, version);
    }

    public static void Write<T>(KafkaWriter writer, T message, short version) where T : class
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        if (message.GetType() != typeof(T))
        {
            For(message.GetType()).Write(writer, message, version);
            return;
        }
        For(typeof(T)).Write(writer, message, version);
    }

    public static void Write(KafkaWriter writer, object message, short version)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        For(message.GetType()).Write(writer, message, version);
    }

    /// <summary>Whether <paramref name="version"/> of a message type uses flexible (compact, tagged) encodings.</summary>
    public static bool IsFlexible(Type type, short version) => MessageRegistry.Info(type).FlexibleVersions.Contains(version);

    private static ITopLevel For(Type type) =>
        _byType.GetOrAdd(type, static t =>
        {
            MessageRegistry.Info(t);
            return (ITopLevel)Activator.CreateInstance(typeof(TopLevel<>).MakeGenericType(t))!;
        });

    private interface ITopLevel
    {
        object Read(KafkaReader reader, short version);

        void Write(KafkaWriter writer, object message, short version);
    }

    private sealed class TopLevel<T> : ITopLevel where T : class, new()
    {
        private static ApiMessageAttribute? _info;

        public static StructPlan<T> Plan(short version)
        {
            var info = _info ??= MessageRegistry.Info(typeof(T));
            if (!info.ValidVersions.Contains(version))
                throw new ProtocolException(
                    $"{typeof(T).Name} version {version} is not supported (valid: {info.ValidVersions}).", ErrorCode.UnsupportedVersion);
            return StructPlans.Get<T>(version, info.FlexibleVersions.Contains(version));
        }

        public object Read(KafkaReader reader, short version) => Plan(version).Read(reader);

        public void Write(KafkaWriter writer, object message, short version) => Plan(version).Write(writer, (T)message);
    }
}

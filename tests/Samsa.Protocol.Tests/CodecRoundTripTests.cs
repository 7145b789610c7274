using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Tests;

public sealed class CodecRoundTripTests
{
    public static TheoryData<string> MessageTypeNames() =>
        [.. MessageRegistry.AllMessageTypes.Select(t => t.FullName!).Order(StringComparer.Ordinal)];

    [Fact]
    public void RegistryFindsEveryDefinition()
    {
        Assert.Equal(typeof(Messages.ApiVersionsRequest), MessageRegistry.RequestType(ApiKey.ApiVersions));
        Assert.Equal(typeof(Messages.ApiVersionsResponse), MessageRegistry.ResponseType(ApiKey.ApiVersions));
        Assert.Contains(typeof(Messages.ApiVersionsRequest), MessageRegistry.AllMessageTypes);
        Assert.Equal(ApiKey.ApiVersions, MessageRegistry.Info(typeof(Messages.ApiVersionsResponse)).ApiKey);
        Assert.Throws<ArgumentException>(() => MessageRegistry.Info(typeof(string)));
    }

    [Theory]
    [MemberData(nameof(MessageTypeNames))]
    public void EveryVersionRoundTripsToIdenticalBytes(string typeName)
    {
        var type = typeof(MessageRegistry).Assembly.GetType(typeName, throwOnError: true)!;
        var info = MessageRegistry.Info(type);
        var random = new Random(typeName.GetHashCode(StringComparison.Ordinal));
        var factory = new RandomMessageFactory(random);
        for (int v = info.ValidVersions.Min; v <= info.ValidVersions.Max; v++)
        {
            short version = (short)v;
            bool flexible = info.FlexibleVersions.Contains(version);
            // Defaults must always encode; then several random instances.
            RoundTrip(type, Activator.CreateInstance(type)!, version);
            for (int i = 0; i < 8; i++) RoundTrip(type, factory.Create(type, version, flexible), version);
        }
    }

    private static void RoundTrip(Type type, object message, short version)
    {
        byte[] first;
        try
        {
            first = CodecTestHelpers.Encode(message, version);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{type.Name} v{version}: write failed: {e}");
        }
        var reader = new KafkaReader(first);
        var decoded = MessageCodec.Read(type, reader, version);
        Assert.True(reader.Remaining == 0, $"{type.Name} v{version}: {reader.Remaining} bytes left unread");
        var second = CodecTestHelpers.Encode(decoded, version);
        Assert.True(first.AsSpan().SequenceEqual(second), $"{type.Name} v{version}: re-encoded bytes differ\n{Convert.ToHexString(first)}\n{Convert.ToHexString(second)}");
    }

    [Fact]
    public void EveryStrictPrefixOfAnEncodedMessageIsRejected()
    {
        var random = new Random(42);
        var factory = new RandomMessageFactory(random);
        foreach (var (type, version) in CodecTestHelpers.AllTypesAndVersions())
        {
            bool flexible = MessageRegistry.Info(type).FlexibleVersions.Contains(version);
            var bytes = CodecTestHelpers.Encode(factory.Create(type, version, flexible), version);
            // Every byte written is needed to read the message back, so every prefix must fail cleanly.
            int step = Math.Max(1, bytes.Length / 40);
            for (int cut = 0; cut < bytes.Length; cut += step)
            {
                var prefix = new ReadOnlyMemory<byte>(bytes, 0, cut);
                Assert.Throws<ProtocolException>(() => MessageCodec.Read(type, new KafkaReader(prefix), version));
            }
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Tests;

/// <summary>
/// Random and mutated request frames through the request decoder (header, then body): the only exception
/// allowed is <see cref="ProtocolException"/>, and no frame may cause an allocation out of proportion to its size.
/// </summary>
public sealed class FuzzTests
{
    private const int Iterations = 20_000;

    [Fact]
    public void RandomAndMutatedRequestFramesOnlyEverThrowProtocolException()
    {
        var random = new Random(20240601);
        var seeds = BuildSeedFrames(random);
        Assert.NotEmpty(seeds);
        var stopwatch = Stopwatch.StartNew();
        int decoded = 0, rejected = 0;
        for (int i = 0; i < Iterations; i++)
        {
            var frame = i % 10 == 0 ? RandomFrame(random) : Mutate(random, seeds[random.Next(seeds.Count)]);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var reader = new KafkaReader(frame);
                var header = KafkaFrames.ReadRequestHeader(reader);
                KafkaFrames.ReadRequestBody(reader, header);
                decoded++;
            }
            catch (ProtocolException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"Frame {Convert.ToHexString(frame)} threw {e}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // Plans are built (and cached) on first use of a (type, version), which dominates the budget.
            Assert.True(allocated < (1 << 21) + 512L * frame.Length,
                $"Frame of {frame.Length} bytes allocated {allocated} bytes: {Convert.ToHexString(frame)}");
        }
        Assert.True(decoded > 0 && rejected > 0, $"decoded {decoded}, rejected {rejected}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"fuzzing took {stopwatch.Elapsed}");
    }

    private static List<byte[]> BuildSeedFrames(Random random)
    {
        var factory = new RandomMessageFactory(random);
        var seeds = new List<byte[]>();
        foreach (var (type, version) in CodecTestHelpers.AllTypesAndVersions())
        {
            var info = MessageRegistry.Info(type);
            if (info.Kind != MessageKind.Request) continue;
            var body = factory.Create(type, version, info.FlexibleVersions.Contains(version));
            var buffer = new ArrayBufferWriter<byte>();
            KafkaFrames.WriteRequest(buffer, new RequestHeader(info.ApiKey, version, random.Next(), "fuzz"), body);
            seeds.Add(buffer.WrittenSpan[4..].ToArray());
        }
        return seeds;
    }

    private static byte[] RandomFrame(Random random)
    {
        var frame = new byte[random.Next(0, 64)];
        random.NextBytes(frame);
        if (frame.Length >= 4 && random.Next(2) == 0)
        {
            // Aim at a known api key and a plausible version so the body decoder is reached.
            var keys = MessageRegistry.ApiKeys.ToArray();
            BinaryPrimitives.WriteInt16BigEndian(frame, (short)keys[random.Next(keys.Length)]);
            BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(2), (short)random.Next(0, 14));
        }
        return frame;
    }

    private static readonly byte[][] Poison =
    [
        [0x7F, 0xFF, 0xFF, 0xFF], [0x77, 0x35, 0x94, 0x00], [0xFF, 0xFF, 0xFF, 0xFE], [0x80, 0x00, 0x00, 0x00],
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80], [0x7F, 0xFF], [0xFF, 0xFE], [0x00],
    ];

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var frame = (byte[])seed.Clone();
        switch (random.Next(5))
        {
            case 0:
                for (int n = random.Next(1, 5); n > 0 && frame.Length > 0; n--) frame[random.Next(frame.Length)] ^= (byte)(1 << random.Next(8));
                return frame;
            case 1:
                return frame[..random.Next(frame.Length + 1)];
            case 2:
            {
                var poison = Poison[random.Next(Poison.Length)];
                if (frame.Length < poison.Length) return frame;
                // Past the 8-byte fixed header so lengths and counts get hit, not only the api key.
                int at = random.Next(Math.Min(8, frame.Length - poison.Length), frame.Length - poison.Length + 1);
                poison.CopyTo(frame, at);
                return frame;
            }
            case 3:
            {
                var insert = new byte[random.Next(1, 8)];
                random.NextBytes(insert);
                int at = random.Next(frame.Length + 1);
                return [.. frame[..at], .. insert, .. frame[at..]];
            }
            default:
                for (int n = random.Next(1, 9); n > 0 && frame.Length > 0; n--) frame[random.Next(frame.Length)] = (byte)random.Next(256);
                return frame;
        }
    }
}

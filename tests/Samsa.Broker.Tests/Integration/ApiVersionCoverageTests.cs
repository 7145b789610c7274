using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Reflection;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Every API the broker advertises answers every advertised version with a decodable response: the advertised
/// table, the handlers and the codec cannot drift apart (a handler setting a field its version lacks would fail).
/// </summary>
public sealed class ApiVersionCoverageTests
{
    [Fact]
    public async Task Every_advertised_version_of_every_api_answers_a_minimal_request()
    {
        await using var broker = await TestBroker.StartAsync();
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(broker.Host.BoundEndpoints[0]);
        var stream = tcp.GetStream();
        int correlation = 0;

        var versions = await RoundTripAsync<ApiVersionsResponse>(stream, ApiKey.ApiVersions, 3, new ApiVersionsRequest
        {
            ClientSoftwareName = "samsa-tests", ClientSoftwareVersion = "1.0",
        }, ++correlation);
        Assert.Equal(0, versions.ErrorCode);
        Assert.NotEmpty(versions.ApiKeys);

        var failures = new List<string>();
        int exercised = 0;
        foreach (var api in versions.ApiKeys)
        {
            var key = (ApiKey)api.ApiKey;
            var requestType = MessageRegistry.RequestType(key)!;
            var responseType = MessageRegistry.ResponseType(key)!;
            for (short v = api.MinVersion; v <= api.MaxVersion; v++)
            {
                object request = Activator.CreateInstance(requestType)!;
                if (request is ProduceRequest produce) produce.Acks = 1;
                try
                {
                    var body = await RoundTripAsync(stream, key, v, request, ++correlation, responseType);
                    Assert.NotNull(body);
                    exercised++;
                }
                catch (Exception e) when (e is IOException or ProtocolException or EndOfStreamException or SocketException)
                {
                    failures.Add($"{key} v{v}: {e.GetType().Name} {e.Message}");
                    Assert.Fail(string.Join("; ", failures)); // the connection is gone; report what failed
                }
            }
        }
        Assert.Empty(failures);
        Assert.True(exercised >= 80, $"only {exercised} api versions exercised");
    }

    private static async Task<T> RoundTripAsync<T>(NetworkStream stream, ApiKey key, short version, object body, int correlation) =>
        (T)await RoundTripAsync(stream, key, version, body, correlation, typeof(T));

    private static async Task<object> RoundTripAsync(NetworkStream stream, ApiKey key, short version, object body, int correlation, Type responseType)
    {
        var buffer = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteRequest(buffer, new RequestHeader(key, version, correlation, "coverage"), body);
        await stream.WriteAsync(buffer.WrittenMemory);
        var sizeBytes = new byte[4];
        await stream.ReadExactlyAsync(sizeBytes);
        var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(sizeBytes)];
        await stream.ReadExactlyAsync(frame);
        var method = typeof(KafkaFrames).GetMethod(nameof(KafkaFrames.ReadResponse))!.MakeGenericMethod(responseType);
        try
        {
            var tuple = method.Invoke(null, [new ReadOnlyMemory<byte>(frame), key, version])!;
            int gotCorrelation = (int)tuple.GetType().GetField("Item1")!.GetValue(tuple)!;
            Assert.Equal(correlation, gotCorrelation);
            return tuple.GetType().GetField("Item2")!.GetValue(tuple)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}

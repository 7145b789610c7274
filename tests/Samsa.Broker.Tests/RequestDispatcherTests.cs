using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Tests;

/// <summary>Resources a handler registers with its request are disposed after the response is written, on every exit path.</summary>
public sealed class RequestDispatcherTests
{
    public enum Outcome { Respond, NoResponse, Throw, Close }

    [Theory]
    [InlineData(Outcome.Respond, DispatchOutcome.Continue)]
    [InlineData(Outcome.NoResponse, DispatchOutcome.Continue)]
    [InlineData(Outcome.Throw, DispatchOutcome.Close)]
    [InlineData(Outcome.Close, DispatchOutcome.Close)]
    public async Task Registered_resources_are_disposed_after_the_response_is_written(Outcome outcome, DispatchOutcome expected)
    {
        var output = new ArrayBufferWriter<byte>();
        var handler = new Handler(outcome, output);
        var dispatcher = new RequestDispatcher([handler], AllowAllAuthorizer.Instance, new BrokerMetrics(), NullLogger<RequestDispatcher>.Instance);
        var frame = new ArrayBufferWriter<byte>();
        KafkaFrames.WriteRequest(frame, new RequestHeader(ApiKey.ApiVersions, 3, 9, "test"), new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" });

        var result = await dispatcher.DispatchAsync(new ClientSession("c", null, "PLAINTEXT", "PLAINTEXT"), frame.WrittenMemory[4..], output, CancellationToken.None);

        Assert.Equal(expected, result);
        Assert.Equal(2, handler.Resources.Count);
        foreach (var resource in handler.Resources)
        {
            Assert.Equal(1, resource.Disposed);
            // Disposed only once the response (if any) is in the output.
            Assert.Equal(outcome == Outcome.Respond, resource.OutputBytesAtDispose > 0);
        }
        Assert.Equal(outcome == Outcome.Respond, output.WrittenCount > 0);
    }

    private sealed class Tracker(ArrayBufferWriter<byte> output) : IDisposable
    {
        public int Disposed;
        public int OutputBytesAtDispose = -1;

        public void Dispose()
        {
            Disposed++;
            OutputBytesAtDispose = output.WrittenCount;
        }
    }

    private sealed class Handler(Outcome outcome, ArrayBufferWriter<byte> output) : ApiHandler<ApiVersionsRequest, ApiVersionsResponse>
    {
        public List<Tracker> Resources { get; } = [];
        public override ApiKey ApiKey => ApiKey.ApiVersions;
        public override VersionRange Versions => new(0, 3);

        protected override async ValueTask<ApiVersionsResponse?> HandleAsync(RequestContext context, ApiVersionsRequest request, CancellationToken cancellationToken)
        {
            foreach (var _ in new[] { 1, 2 })
            {
                var tracker = new Tracker(output);
                Resources.Add(tracker);
                context.RegisterForDispose(tracker);
            }
            await Task.Yield();
            return outcome switch
            {
                Outcome.Respond => new ApiVersionsResponse(),
                Outcome.NoResponse => null,
                Outcome.Throw => throw new InvalidOperationException("handler bug"),
                _ => throw new CloseConnectionException("test"),
            };
        }
    }
}

using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Produce requests of one connection are pipelined (the next is appended while the previous waits for its fsync);
/// offsets and responses must still follow request order, and a following non-Produce request sees every append.
/// </summary>
public sealed class ProducePipeliningTests
{
    [Fact]
    public async Task Pipelined_produces_are_appended_and_answered_in_request_order()
    {
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "pipe");
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        const int Requests = 30, PerBatch = 5;
        for (int i = 0; i < Requests; i++)
            await client.SendAsync(ApiKey.Produce, 9, new ProduceRequest
            {
                Acks = -1, TimeoutMs = 10_000,
                TopicData = [new() { Name = "pipe", PartitionData = [new() { Index = 0, Records = BadInputHelpers.Batch(PerBatch) }] }],
            });
        // A non-Produce request right behind them must see all 30 appends.
        await client.SendAsync(ApiKey.ListOffsets, 7, new ListOffsetsRequest
        {
            ReplicaId = -1, Topics = [new() { Name = "pipe", Partitions = [new() { PartitionIndex = 0, Timestamp = -1 }] }],
        });

        for (int i = 0; i < Requests; i++)
        {
            var response = await client.ReceiveAsync<ProduceResponse>(); // checks the correlation id order
            var partition = response.Responses[0].PartitionResponses[0];
            Assert.Equal(0, partition.ErrorCode);
            Assert.Equal((long)i * PerBatch, partition.BaseOffset);
        }
        var offsets = await client.ReceiveAsync<ListOffsetsResponse>();
        Assert.Equal((long)Requests * PerBatch, offsets.Topics[0].Partitions[0].Offset);
    }
}

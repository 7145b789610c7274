using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Integration;

/// <summary>Regressions for defects found in review: each once closed a connection or broke the node.</summary>
public sealed class ReviewRegressionTests
{
    [Fact]
    public async Task Invalid_config_append_is_refused_and_append_uses_the_default_as_base()
    {
        await using var broker = await TestBroker.StartAsync();
        await BadInputHelpers.CreateTopicAsync(broker, "cfg");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = "cfg" };

        var bad = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(
            () => AlterAsync(admin, resource, AlterConfigOpType.Append, "cleanup.policy", "foo"));
        Assert.Equal(Confluent.Kafka.ErrorCode.InvalidConfig, bad.Results[0].Error.Code);

        await AlterAsync(admin, resource, AlterConfigOpType.Append, "cleanup.policy", "compact");
        var described = await admin.DescribeConfigsAsync([resource]);
        Assert.Equal("delete,compact", described[0].Entries["cleanup.policy"].Value);

        // The node restarts with its configs intact (an invalid stored value used to stop it).
        await broker.RestartAsync();
        await BadInputHelpers.AssertConfluentRoundTripAsync(broker, "cfg");
    }

    private static Task AlterAsync(IAdminClient admin, ConfigResource resource, AlterConfigOpType op, string name, string value) =>
        admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = [new ConfigEntry { Name = name, Value = value, IncrementalOperation = op }],
        });

    [Fact]
    public async Task Clients_cannot_produce_to_internal_topics()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["offsets.topic.num.partitions"] = "1" });
        using (var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
               {
                   BootstrapServers = broker.BootstrapServers, GroupId = "creates-offsets-topic", AutoOffsetReset = AutoOffsetReset.Earliest,
               }).Build())
        {
            // Committing creates __consumer_offsets.
            await BadInputHelpers.CreateTopicAsync(broker, "t");
            consumer.Commit([new TopicPartitionOffset("t", 0, 0)]);
        }
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        var response = await client.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, new ProduceRequest
        {
            Acks = -1, TimeoutMs = 5000,
            TopicData = [new() { Name = "__consumer_offsets", PartitionData = [new() { Index = 0, Records = BadInputHelpers.Batch() }] }],
        });
        Assert.Equal((short)Samsa.Protocol.ErrorCode.InvalidTopicException, response.Responses[0].PartitionResponses[0].ErrorCode);
    }

    [Fact]
    public async Task Malformed_admin_requests_get_errors_not_closed_connections()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var client = await RawKafkaClient.ConnectAsync(broker);

        var metadata = await client.RequestAsync<MetadataResponse>(ApiKey.Metadata, 10, new MetadataRequest
        {
            Topics = [new() { Name = null, TopicId = Guid.NewGuid() }],
        });
        Assert.Equal((short)Samsa.Protocol.ErrorCode.InvalidRequest, metadata.Topics[0].ErrorCode);

        var create = await client.RequestAsync<CreateTopicsResponse>(ApiKey.CreateTopics, 7, new CreateTopicsRequest
        {
            Topics = [new() { Name = "dup", NumPartitions = -1, ReplicationFactor = -1, Assignments = [new() { PartitionIndex = 0, BrokerIds = [1] }, new() { PartitionIndex = 0, BrokerIds = [1] }] }],
        });
        Assert.Equal((short)Samsa.Protocol.ErrorCode.InvalidReplicaAssignment, create.Topics[0].ErrorCode);

        var logDirs = await client.RequestAsync<DescribeLogDirsResponse>(ApiKey.DescribeLogDirs, 4, new DescribeLogDirsRequest
        {
            Topics = [new() { Topic = "x", Partitions = [0] }, new() { Topic = "x", Partitions = [1] }],
        });
        Assert.Equal(0, logDirs.ErrorCode);

        var alter = await client.RequestAsync<AlterConfigsResponse>(ApiKey.AlterConfigs, 2, new AlterConfigsRequest
        {
            Resources = [new() { ResourceType = 2, ResourceName = "dup", Configs = [new() { Name = "retention.ms", Value = null }] }],
        });
        Assert.NotEqual(0, alter.Responses[0].ErrorCode);

        // Still the same, open connection.
        await BadInputHelpers.AssertApiVersionsRoundTripAsync(client);
    }
}

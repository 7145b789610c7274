using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Broker.Tests.Integration.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using ErrorCode = Samsa.Protocol.ErrorCode;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// AlterPartitionReassignments 0, ListPartitionReassignments 0 and ElectLeaders 0-2 against a real single-node broker:
/// the wire answers (error codes per partition, top-level errors, authorization), and Confluent's ElectLeaders.
/// The multi-node behaviour (moving replicas, electing after a restart) is in Samsa.Cluster.Tests/ScaleOutTests.
/// </summary>
public sealed class ReassignmentApiTests
{
    private static async Task CreateTopicAsync(TestBroker broker, string name, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    private static async Task<TResponse> RoundTrip<TResponse>(RawKafkaClient client, ApiKey key, short version, object request) where TResponse : class, new()
    {
        await client.SendAsync(key, version, request);
        return await client.ReceiveAsync<TResponse>();
    }

    private static AlterPartitionReassignmentsRequest Alter(string topic, params (int Partition, int[]? Replicas)[] partitions) => new()
    {
        Topics = [new() { Name = topic, Partitions = [.. partitions.Select(p => new AlterPartitionReassignmentsRequest.ReassignablePartition { PartitionIndex = p.Partition, Replicas = p.Replicas?.ToList() })] }],
    };

    [Fact]
    public async Task Reassignment_requests_get_per_partition_Kafka_errors_and_a_no_op_succeeds()
    {
        await using var broker = await TestBroker.StartAsync();
        await CreateTopicAsync(broker, "r", 2);
        int self = broker.Host.Node.NodeId;
        await using var client = await RawKafkaClient.ConnectAsync(broker);

        var response = await RoundTrip<AlterPartitionReassignmentsResponse>(client, ApiKey.AlterPartitionReassignments, 0,
            Alter("r", (0, [self]), (1, [self, 99]), (5, [self])));
        Assert.Equal(0, response.ErrorCode);
        var errors = response.Responses.Single().Partitions.ToDictionary(p => p.PartitionIndex, p => (ErrorCode)p.ErrorCode);
        Assert.Equal(ErrorCode.None, errors[0]);                       // already the assignment: nothing to move
        Assert.Equal(ErrorCode.InvalidReplicaAssignment, errors[1]);   // broker 99 is not registered
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, errors[5]);

        var more = await RoundTrip<AlterPartitionReassignmentsResponse>(client, ApiKey.AlterPartitionReassignments, 0,
            Alter("r", (0, null), (1, []), (1, [self])));
        var byPartition = more.Responses.Single().Partitions.Select(p => (p.PartitionIndex, (ErrorCode)p.ErrorCode)).ToList();
        Assert.Equal([(0, ErrorCode.NoReassignmentInProgress), (1, ErrorCode.InvalidReplicaAssignment), (1, ErrorCode.InvalidRequest)], byPartition);

        var missingTopic = await RoundTrip<AlterPartitionReassignmentsResponse>(client, ApiKey.AlterPartitionReassignments, 0, Alter("nope", (0, [self])));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, (ErrorCode)missingTopic.Responses.Single().Partitions.Single().ErrorCode);

        var listed = await RoundTrip<ListPartitionReassignmentsResponse>(client, ApiKey.ListPartitionReassignments, 0,
            new ListPartitionReassignmentsRequest { Topics = null });
        Assert.Equal(0, listed.ErrorCode);
        Assert.Empty(listed.Topics);
        var filtered = await RoundTrip<ListPartitionReassignmentsResponse>(client, ApiKey.ListPartitionReassignments, 0,
            new ListPartitionReassignmentsRequest { Topics = [new() { Name = "r", PartitionIndexes = [0, 1, 7] }, new() { Name = "nope", PartitionIndexes = [0] }] });
        Assert.Empty(filtered.Topics);
    }

    [Theory]
    [InlineData((short)0)]
    [InlineData((short)1)]
    [InlineData((short)2)]
    public async Task ElectLeaders_answers_election_not_needed_unknown_partition_and_refuses_an_unknown_type(short version)
    {
        await using var broker = await TestBroker.StartAsync();
        await CreateTopicAsync(broker, "e", 2);
        await using var client = await RawKafkaClient.ConnectAsync(broker);

        var response = await RoundTrip<ElectLeadersResponse>(client, ApiKey.ElectLeaders, version, new ElectLeadersRequest
        {
            ElectionType = 0, TopicPartitions = [new() { Topic = "e", Partitions = [0, 1, 9] }],
        });
        Assert.Equal(0, response.ErrorCode);
        var results = response.ReplicaElectionResults.Single().PartitionResult.ToDictionary(p => p.PartitionId, p => (ErrorCode)p.ErrorCode);
        Assert.Equal(ErrorCode.ElectionNotNeeded, results[0]);
        Assert.Equal(ErrorCode.ElectionNotNeeded, results[1]);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, results[9]);

        // Every partition (null): those not needing an election are left out, as Kafka.
        var all = await RoundTrip<ElectLeadersResponse>(client, ApiKey.ElectLeaders, version, new ElectLeadersRequest { TopicPartitions = null });
        Assert.Empty(all.ReplicaElectionResults);

        if (version >= 1)
        {
            var unclean = await RoundTrip<ElectLeadersResponse>(client, ApiKey.ElectLeaders, version, new ElectLeadersRequest
            {
                ElectionType = 1, TopicPartitions = [new() { Topic = "e", Partitions = [0] }],
            });
            Assert.Equal(ErrorCode.ElectionNotNeeded, (ErrorCode)unclean.ReplicaElectionResults.Single().PartitionResult.Single().ErrorCode);
            var invalid = await RoundTrip<ElectLeadersResponse>(client, ApiKey.ElectLeaders, version, new ElectLeadersRequest
            {
                ElectionType = 7, TopicPartitions = [new() { Topic = "e", Partitions = [0] }],
            });
            Assert.Equal(ErrorCode.InvalidRequest, (ErrorCode)invalid.ErrorCode);
        }
    }

    [Fact]
    public async Task Confluent_ElectLeaders_reports_election_not_needed_on_a_single_node()
    {
        await using var broker = await TestBroker.StartAsync();
        await CreateTopicAsync(broker, "c", 1);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();
        var e = await Assert.ThrowsAsync<ElectLeadersException>(() =>
            admin.ElectLeadersAsync(ElectionType.Preferred, [new TopicPartition("c", 0)]));
        Assert.Equal(Confluent.Kafka.ErrorCode.ElectionNotNeeded, e.Results.TopicPartitions.Single().Error.Code);
    }

    [Fact]
    public async Task Without_cluster_permissions_every_api_answers_cluster_authorization_failed()
    {
        await using var broker = await TestBroker.StartAsync(new Dictionary<string, string> { ["authorizer.class.name"] = AclTestHelpers.StandardAuthorizer });
        await using var client = await RawKafkaClient.ConnectAsync(broker);

        var alter = await RoundTrip<AlterPartitionReassignmentsResponse>(client, ApiKey.AlterPartitionReassignments, 0, Alter("t", (0, [1])));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, (ErrorCode)alter.ErrorCode);
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, (ErrorCode)alter.Responses.Single().Partitions.Single().ErrorCode);
        var list = await RoundTrip<ListPartitionReassignmentsResponse>(client, ApiKey.ListPartitionReassignments, 0, new ListPartitionReassignmentsRequest());
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, (ErrorCode)list.ErrorCode);
        var elect = await RoundTrip<ElectLeadersResponse>(client, ApiKey.ElectLeaders, 2, new ElectLeadersRequest
        {
            TopicPartitions = [new() { Topic = "t", Partitions = [0] }],
        });
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, (ErrorCode)elect.ErrorCode);
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, (ErrorCode)elect.ReplicaElectionResults.Single().PartitionResult.Single().ErrorCode);
    }
}

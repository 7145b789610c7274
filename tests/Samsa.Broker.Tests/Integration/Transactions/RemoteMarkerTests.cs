using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Network.InterBroker;
using Samsa.Broker.Transactions;
using Samsa.Metadata;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Integration.Transactions;

/// <summary>
/// Markers for partitions led by another node travel as WriteTxnMarkers over the inter-broker client: a coordinator's
/// router whose metadata says node 2 leads the partition (node 2 being a real node on its port) has the marker appended
/// there; DescribeProducers shows the open transaction before and none after. And a produce checked against a coordinator
/// on another node (KIP-890) asks it with AddPartitionsToTxn verify_only.
/// </summary>
public sealed class RemoteMarkerTests
{
    private const string Topic = "remote-markers";

    private sealed class NoLocalPartitions : ITxnMarkerWriter
    {
        public Task<IReadOnlyDictionary<TxnPartition, Protocol.ErrorCode>> WriteAsync(TxnMarker marker, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("every partition is remote in this test");
    }

    [Fact]
    public async Task Router_sends_markers_to_the_partition_leader_with_WriteTxnMarkers()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Topic, 1);
        var tp = new TopicPartition(Topic, 0);
        using var producer = TxnSupport.TransactionalProducer(bootstrap, "remote-1");
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        producer.BeginTransaction();
        for (int i = 0; i < 3; i++) producer.Produce(tp, new Message<string, string> { Key = "k", Value = $"v{i}" });
        producer.Flush(TimeSpan.FromSeconds(10));

        await using var raw = await RawKafkaClient.ConnectAsync(broker);
        var describe = new DescribeProducersRequest { Topics = [new() { Name = Topic, PartitionIndexes = [0] }] };
        var before = await raw.RequestAsync<DescribeProducersResponse>(Protocol.ApiKey.DescribeProducers, 0, describe);
        var state = Assert.Single(before.Topics[0].Partitions[0].ActiveProducers);
        Assert.Equal(0, state.CurrentTxnStartOffset);

        // The coordinator's view: node 2 leads the partition, reachable at this node's address.
        var endpoint = broker.Host.BoundEndpoints[0];
        var topicId = Guid.NewGuid();
        var image = MetadataImage.Empty.Apply(
        [
            new TopicRecord(Topic, topicId),
            new PartitionRecord(topicId, 0, [2], [2], 2, 0, 0),
            new RegisterBrokerRecord(2, [new BrokerEndpoint("PLAINTEXT", endpoint.Address.ToString(), endpoint.Port, "PLAINTEXT")], null, Guid.NewGuid()),
        ]);
        await using var pool = new BrokerChannelPool(() => image, "PLAINTEXT", PlaintextConnectionFactory.Instance,
            new BrokerChannelOptions { ClientId = "coordinator-test" }, NullLoggerFactory.Instance);
        var router = new TxnMarkerRouter(new NoLocalPartitions(), () => image, pool, 1, NullLogger<TxnMarkerRouter>.Instance);

        var partition = new TxnPartition(Topic, 0);
        var stale = await router.WriteAsync(new TxnMarker(state.ProducerId, (short)(state.ProducerEpoch - 1), false, 0, [partition]), default);
        Assert.Equal(Protocol.ErrorCode.InvalidProducerEpoch, stale[partition]);
        var written = await router.WriteAsync(new TxnMarker(state.ProducerId, (short)state.ProducerEpoch, false, 0, [partition]), default);
        Assert.Equal(Protocol.ErrorCode.None, written[partition]);

        var after = await raw.RequestAsync<DescribeProducersResponse>(Protocol.ApiKey.DescribeProducers, 0, describe);
        Assert.Equal(-1, Assert.Single(after.Topics[0].Partitions[0].ActiveProducers).CurrentTxnStartOffset);
        using var reader = TxnSupport.Consumer(bootstrap, IsolationLevel.ReadCommitted);
        Assert.Equal(4, reader.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value);
        Assert.Empty(TxnSupport.ReadToEnd(bootstrap, Topic, 1, IsolationLevel.ReadCommitted).Records);
        Assert.Equal(3, TxnSupport.ReadToEnd(bootstrap, Topic, 1, IsolationLevel.ReadUncommitted).Records.Count);

        // A partition the peer does not have: answered per partition, not thrown.
        var unknown = new TxnPartition("no-such-topic", 0);
        var unknownId = Guid.NewGuid();
        image = image.Apply([new TopicRecord("no-such-topic", unknownId), new PartitionRecord(unknownId, 0, [2], [2], 2, 0, 0)]);
        var missing = await router.WriteAsync(new TxnMarker(state.ProducerId, (short)state.ProducerEpoch, true, 0, [unknown]), default);
        Assert.Equal(Protocol.ErrorCode.UnknownTopicOrPartition, missing[unknown]);
    }

    [Fact]
    public async Task Remote_verifier_asks_the_coordinator_node_whether_a_partition_is_in_the_transaction()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        string bootstrap = broker.BootstrapServers;
        await RestartTests.CreateTopicAsync(bootstrap, Topic, 2);
        using var producer = TxnSupport.TransactionalProducer(bootstrap, "verify-1");
        producer.InitTransactions(TimeSpan.FromSeconds(30));
        producer.BeginTransaction();
        producer.Produce(new TopicPartition(Topic, 0), new Message<string, string> { Key = "k", Value = "v" });
        producer.Flush(TimeSpan.FromSeconds(10));
        await using var raw = await RawKafkaClient.ConnectAsync(broker);
        var described = await raw.RequestAsync<DescribeTransactionsResponse>(Protocol.ApiKey.DescribeTransactions, 0,
            new DescribeTransactionsRequest { TransactionalIds = ["verify-1"] });
        var state = described.TransactionStates[0];

        var endpoint = broker.Host.BoundEndpoints[0];
        var image = MetadataImage.Empty.Apply(
            [new RegisterBrokerRecord(2, [new BrokerEndpoint("PLAINTEXT", endpoint.Address.ToString(), endpoint.Port, "PLAINTEXT")], null, Guid.NewGuid())]);
        await using var pool = new BrokerChannelPool(() => image, "PLAINTEXT", PlaintextConnectionFactory.Instance,
            new BrokerChannelOptions { ClientId = "verifier-test" }, NullLoggerFactory.Instance);
        var verifier = new RemoteTxnVerifier(pool, NullLogger<RemoteTxnVerifier>.Instance);

        Assert.Equal(Protocol.ErrorCode.None, await verifier.VerifyAsync(2, "verify-1", state.ProducerId, state.ProducerEpoch, new TxnPartition(Topic, 0), default));
        Assert.Equal(Protocol.ErrorCode.InvalidTxnState, await verifier.VerifyAsync(2, "verify-1", state.ProducerId, state.ProducerEpoch, new TxnPartition(Topic, 1), default));
        Assert.Equal(Protocol.ErrorCode.ProducerFenced,
            await verifier.VerifyAsync(2, "verify-1", state.ProducerId, (short)(state.ProducerEpoch - 1), new TxnPartition(Topic, 0), default));
        Assert.Equal(Protocol.ErrorCode.CoordinatorNotAvailable,
            await verifier.VerifyAsync(3, "verify-1", state.ProducerId, state.ProducerEpoch, new TxnPartition(Topic, 0), default));
        producer.AbortTransaction(TimeSpan.FromSeconds(30));
    }
}

using System.Text;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;

namespace Samsa.Broker.Tests.Integration.Transactions;

/// <summary>
/// The transaction APIs at the wire level (raw frames): KIP-890 rejection of a produce to a partition not in the
/// transaction, DescribeTransactions / ListTransactions / DescribeProducers, read_committed Fetch with
/// aborted_transactions and ListOffsets at the LSO, per-partition AddPartitionsToTxn errors.
/// </summary>
public sealed class TransactionApiTests
{
    private const string Topic = "raw-txn";
    private const string Id = "raw-txn-id";

    private static ProduceRequest Produce(string? transactionalId, long pid, short epoch, int seq, bool transactional = true)
    {
        using var builder = new RecordBatchBuilder { ProducerId = pid, ProducerEpoch = epoch, BaseSequence = seq, IsTransactional = transactional };
        builder.Append(1_000, Encoding.UTF8.GetBytes("k"), Encoding.UTF8.GetBytes("v" + seq));
        return new ProduceRequest
        {
            TransactionalId = transactionalId, Acks = -1, TimeoutMs = 5000,
            TopicData = [new() { Name = Topic, PartitionData = [new() { Index = 0, Records = builder.Build() }] }],
        };
    }

    private static FetchRequest Fetch(sbyte isolation) => new()
    {
        MaxWaitMs = 0, MinBytes = 0, IsolationLevel = isolation,
        Topics = [new() { Topic = Topic, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
    };

    [Fact]
    public async Task Transaction_apis_at_the_wire_level()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, Topic, 1);
        await using var raw = await RawKafkaClient.ConnectAsync(broker);

        var coordinator = await raw.RequestAsync<FindCoordinatorResponse>(ApiKey.FindCoordinator, 4, new FindCoordinatorRequest { KeyType = 1, CoordinatorKeys = [Id] });
        Assert.Equal((short)0, coordinator.Coordinators[0].ErrorCode);
        Assert.Equal(broker.Host.BoundEndpoints[0].Port, coordinator.Coordinators[0].Port);

        InitProducerIdResponse init = new() { ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress };
        for (int i = 0; i < 100 && init.ErrorCode == (short)ErrorCode.CoordinatorLoadInProgress; i++)
        {
            init = await raw.RequestAsync<InitProducerIdResponse>(ApiKey.InitProducerId, 4, new InitProducerIdRequest { TransactionalId = Id, TransactionTimeoutMs = 60_000 });
            if (init.ErrorCode != 0) await Task.Delay(50);
        }
        Assert.Equal((short)0, init.ErrorCode);
        long pid = init.ProducerId;
        short epoch = init.ProducerEpoch;

        // KIP-890 part 1: the partition was not added to a transaction.
        var rejected = await raw.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, Produce(Id, pid, epoch, 0));
        Assert.Equal((short)ErrorCode.InvalidTxnState, rejected.Responses[0].PartitionResponses[0].ErrorCode);

        // One unknown partition: it answers UNKNOWN_TOPIC_OR_PARTITION, the good one OPERATION_NOT_ATTEMPTED.
        var mixed = await raw.RequestAsync<AddPartitionsToTxnResponse>(ApiKey.AddPartitionsToTxn, 3, new AddPartitionsToTxnRequest
        {
            V3AndBelowTransactionalId = Id, V3AndBelowProducerId = pid, V3AndBelowProducerEpoch = epoch,
            V3AndBelowTopics = [new() { Name = Topic, Partitions = [0] }, new() { Name = "nope", Partitions = [0] }],
        });
        var codes = mixed.ResultsByTopicV3AndBelow.ToDictionary(t => t.Name, t => (ErrorCode)t.ResultsByPartition[0].PartitionErrorCode);
        Assert.Equal(ErrorCode.OperationNotAttempted, codes[Topic]);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, codes["nope"]);

        var added = await raw.RequestAsync<AddPartitionsToTxnResponse>(ApiKey.AddPartitionsToTxn, 3, new AddPartitionsToTxnRequest
        {
            V3AndBelowTransactionalId = Id, V3AndBelowProducerId = pid, V3AndBelowProducerEpoch = epoch,
            V3AndBelowTopics = [new() { Name = Topic, Partitions = [0] }],
        });
        Assert.Equal((short)0, added.ResultsByTopicV3AndBelow[0].ResultsByPartition[0].PartitionErrorCode);
        var accepted = await raw.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, Produce(Id, pid, epoch, 0));
        Assert.Equal((short)0, accepted.Responses[0].PartitionResponses[0].ErrorCode);
        // A stale epoch is fenced at produce.
        var stale = await raw.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, Produce(Id, pid, (short)(epoch - 1), 1));
        Assert.NotEqual((short)0, stale.Responses[0].PartitionResponses[0].ErrorCode);

        var described = await raw.RequestAsync<DescribeTransactionsResponse>(ApiKey.DescribeTransactions, 0, new DescribeTransactionsRequest { TransactionalIds = [Id, "unknown-id"] });
        var s = described.TransactionStates[0];
        Assert.Equal(("Ongoing", pid, epoch, 60_000), (s.State, s.ProducerId, s.ProducerEpoch, s.TransactionTimeoutMs));
        Assert.Equal([0], Assert.Single(s.Topics, t => t.Topic == Topic).Partitions);
        Assert.Equal((short)ErrorCode.TransactionalIdNotFound, described.TransactionStates[1].ErrorCode);

        var listed = await raw.RequestAsync<ListTransactionsResponse>(ApiKey.ListTransactions, 1, new ListTransactionsRequest { StateFilters = ["Ongoing", "Bogus"] });
        Assert.Contains(listed.TransactionStates, t => t.TransactionalId == Id && t.State == "Ongoing" && t.ProducerId == pid);
        Assert.Equal(["Bogus"], listed.UnknownStateFilters);

        var producers = await raw.RequestAsync<DescribeProducersResponse>(ApiKey.DescribeProducers, 0, new DescribeProducersRequest { Topics = [new() { Name = Topic, PartitionIndexes = [0] }] });
        var producer = Assert.Single(producers.Topics[0].Partitions[0].ActiveProducers);
        Assert.Equal((pid, 0L, 0), (producer.ProducerId, producer.CurrentTxnStartOffset, producer.LastSequence));

        // Open: read_committed gets nothing and LSO 0; read_uncommitted the record.
        var committedFetch = await raw.RequestAsync<FetchResponse>(ApiKey.Fetch, 11, Fetch(1));
        Assert.Equal((0L, 1L, 0), (committedFetch.Responses[0].Partitions[0].LastStableOffset, committedFetch.Responses[0].Partitions[0].HighWatermark,
            committedFetch.Responses[0].Partitions[0].Records!.Value.Length));
        var uncommittedFetch = await raw.RequestAsync<FetchResponse>(ApiKey.Fetch, 11, Fetch(0));
        Assert.NotEqual(0, uncommittedFetch.Responses[0].Partitions[0].Records!.Value.Length);
        Assert.Null(uncommittedFetch.Responses[0].Partitions[0].AbortedTransactions);

        var end = await raw.RequestAsync<EndTxnResponse>(ApiKey.EndTxn, 3, new EndTxnRequest { TransactionalId = Id, ProducerId = pid, ProducerEpoch = epoch, Committed = false });
        Assert.Equal((short)0, end.ErrorCode);
        await TxnSupport.WaitUntilAsync(() => raw.RequestAsync<DescribeTransactionsResponse>(ApiKey.DescribeTransactions, 0,
            new DescribeTransactionsRequest { TransactionalIds = [Id] }).Result.TransactionStates[0].State == "CompleteAbort", "the abort to complete");

        // Aborted: read_committed gets the batches with the aborted transaction listed so the client drops its records.
        var afterAbort = (await raw.RequestAsync<FetchResponse>(ApiKey.Fetch, 11, Fetch(1))).Responses[0].Partitions[0];
        Assert.Equal(2, afterAbort.LastStableOffset);
        Assert.NotEqual(0, afterAbort.Records!.Value.Length);
        var aborted = Assert.Single(afterAbort.AbortedTransactions!);
        Assert.Equal((pid, 0L), (aborted.ProducerId, aborted.FirstOffset));
        var latest = await raw.RequestAsync<ListOffsetsResponse>(ApiKey.ListOffsets, 5, new ListOffsetsRequest
        {
            ReplicaId = -1, IsolationLevel = 1, Topics = [new() { Name = Topic, Partitions = [new() { PartitionIndex = 0, Timestamp = -1 }] }],
        });
        Assert.Equal(2, latest.Topics[0].Partitions[0].Offset);
    }

    [Fact]
    public async Task Transactional_offsets_are_unstable_until_the_commit_marker_and_dropped_on_abort()
    {
        await using var broker = await TxnSupport.StartBrokerAsync();
        await RestartTests.CreateTopicAsync(broker.BootstrapServers, Topic, 1);
        await using var raw = await RawKafkaClient.ConnectAsync(broker);
        const string group = "raw-txn-group";
        InitProducerIdResponse init = new() { ErrorCode = (short)ErrorCode.CoordinatorNotAvailable };
        for (int i = 0; i < 100 && init.ErrorCode != 0; i++)
        {
            init = await raw.RequestAsync<InitProducerIdResponse>(ApiKey.InitProducerId, 4, new InitProducerIdRequest { TransactionalId = Id, TransactionTimeoutMs = 60_000 });
            if (init.ErrorCode != 0) await Task.Delay(50);
        }
        Assert.Equal((short)0, init.ErrorCode);

        async Task<(ErrorCode Error, long Offset)> FetchOffset(bool requireStable)
        {
            var response = await raw.RequestAsync<OffsetFetchResponse>(ApiKey.OffsetFetch, 8, new OffsetFetchRequest
            {
                RequireStable = requireStable,
                Groups = [new() { GroupId = group, Topics = [new() { Name = Topic, PartitionIndexes = [0] }] }],
            });
            var p = response.Groups[0].Topics[0].Partitions[0];
            return ((ErrorCode)p.ErrorCode, p.CommittedOffset);
        }

        async Task CommitOffsetInTransaction(short epoch, long offset)
        {
            var addOffsets = await raw.RequestAsync<AddOffsetsToTxnResponse>(ApiKey.AddOffsetsToTxn, 3,
                new AddOffsetsToTxnRequest { TransactionalId = Id, ProducerId = init.ProducerId, ProducerEpoch = epoch, GroupId = group });
            Assert.Equal((short)0, addOffsets.ErrorCode);
            var commit = await raw.RequestAsync<TxnOffsetCommitResponse>(ApiKey.TxnOffsetCommit, 3, new TxnOffsetCommitRequest
            {
                TransactionalId = Id, GroupId = group, ProducerId = init.ProducerId, ProducerEpoch = epoch,
                Topics = [new() { Name = Topic, Partitions = [new() { PartitionIndex = 0, CommittedOffset = offset }] }],
            });
            Assert.Equal((short)0, commit.Topics[0].Partitions[0].ErrorCode);
        }

        async Task End(short epoch, bool commit, string state)
        {
            var end = await raw.RequestAsync<EndTxnResponse>(ApiKey.EndTxn, 3, new EndTxnRequest { TransactionalId = Id, ProducerId = init.ProducerId, ProducerEpoch = epoch, Committed = commit });
            Assert.Equal((short)0, end.ErrorCode);
            await TxnSupport.WaitUntilAsync(() => raw.RequestAsync<DescribeTransactionsResponse>(ApiKey.DescribeTransactions, 0,
                new DescribeTransactionsRequest { TransactionalIds = [Id] }).Result.TransactionStates[0].State == state, "the transaction to complete");
        }

        // TxnOffsetCommit without AddOffsetsToTxn first: the offsets partition is not in the transaction (KIP-890).
        var early = await raw.RequestAsync<TxnOffsetCommitResponse>(ApiKey.TxnOffsetCommit, 3, new TxnOffsetCommitRequest
        {
            TransactionalId = Id, GroupId = group, ProducerId = init.ProducerId, ProducerEpoch = init.ProducerEpoch,
            Topics = [new() { Name = Topic, Partitions = [new() { PartitionIndex = 0, CommittedOffset = 1 }] }],
        });
        Assert.Equal((short)ErrorCode.InvalidTxnState, early.Topics[0].Partitions[0].ErrorCode);

        await CommitOffsetInTransaction(init.ProducerEpoch, 42);
        Assert.Equal((ErrorCode.UnstableOffsetCommit, -1L), await FetchOffset(requireStable: true));
        Assert.Equal((ErrorCode.None, -1L), await FetchOffset(requireStable: false));
        await End(init.ProducerEpoch, commit: true, "CompleteCommit");
        Assert.Equal((ErrorCode.None, 42L), await FetchOffset(requireStable: true));

        await CommitOffsetInTransaction(init.ProducerEpoch, 99);
        Assert.Equal((ErrorCode.UnstableOffsetCommit, -1L), await FetchOffset(requireStable: true));
        await End(init.ProducerEpoch, commit: false, "CompleteAbort");
        Assert.Equal((ErrorCode.None, 42L), await FetchOffset(requireStable: true));

        // The committed offset (and not the aborted one) is what the group coordinator rebuilds after a restart.
        await broker.RestartAsync();
        await using var again = await RawKafkaClient.ConnectAsync(broker);
        OffsetFetchResponse? reloaded = null;
        for (int i = 0; i < 100; i++)
        {
            reloaded = await again.RequestAsync<OffsetFetchResponse>(ApiKey.OffsetFetch, 8, new OffsetFetchRequest
            {
                RequireStable = true, Groups = [new() { GroupId = group, Topics = [new() { Name = Topic, PartitionIndexes = [0] }] }],
            });
            if (reloaded.Groups[0].ErrorCode == 0) break;
            await Task.Delay(50);
        }
        Assert.Equal(42L, reloaded!.Groups[0].Topics[0].Partitions[0].CommittedOffset);
    }
}

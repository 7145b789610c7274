using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Tests.Groups;
using Samsa.Broker.Transactions;
using Samsa.Protocol;

namespace Samsa.Broker.Tests.Transactions;

/// <summary>
/// The coordinator state machine over a log: a decision made durable survives a coordinator change (its markers are
/// written by the next coordinator), timeouts abort and fence, and the usual state errors.
/// </summary>
public sealed class TransactionCoordinatorShardTests
{
    private sealed class RecordingMarkers(ErrorCode answer) : ITxnMarkerWriter
    {
        public List<TxnMarker> Written { get; } = [];
        public ErrorCode Answer { get; set; } = answer;

        public Task<IReadOnlyDictionary<TxnPartition, ErrorCode>> WriteAsync(TxnMarker marker, CancellationToken cancellationToken)
        {
            lock (Written) Written.Add(marker);
            return Task.FromResult<IReadOnlyDictionary<TxnPartition, ErrorCode>>(marker.Partitions.ToDictionary(p => p, _ => Answer));
        }
    }

    private static readonly TxnPartition P0 = new("orders", 0), P1 = new("orders", 1);
    private long _nextProducerId = 1000;

    private TransactionCoordinatorShard Shard(InMemoryCoordinatorLog log, ITxnMarkerWriter markers, TimeProvider time, int epoch = 0)
    {
        var shard = new TransactionCoordinatorShard(0, epoch, log, markers, _ => ValueTask.FromResult(Interlocked.Increment(ref _nextProducerId)),
            new TransactionCoordinatorConfig(MaxTimeoutMs: 60_000, AbortTimedOutCheckIntervalMs: 1_000), time, NullLogger.Instance);
        shard.Load();
        return shard;
    }

    private static async Task WaitForStateAsync(TransactionCoordinatorShard shard, string id, TransactionState state)
    {
        for (int i = 0; i < 2000 && shard.Describe(id).State?.State != state; i++) await Task.Delay(10);
        Assert.Equal(state, shard.Describe(id).State?.State);
    }

    [Fact]
    public async Task Prepared_commit_is_completed_by_the_next_coordinator_after_a_reload()
    {
        var log = new InMemoryCoordinatorLog();
        var time = new ManualTimeProvider();
        var unreachable = new RecordingMarkers(ErrorCode.NotLeaderOrFollower);
        var first = Shard(log, unreachable, time);
        var init = await first.InitProducerIdAsync("tx", 30_000, -1, -1, default);
        Assert.Equal((ErrorCode.None, (short)0), (init.Error, init.ProducerEpoch));
        Assert.Equal(ErrorCode.None, await first.AddPartitionsAsync("tx", init.ProducerId, 0, [P0, P1]));
        Assert.Equal(ErrorCode.None, await first.EndTransactionAsync("tx", init.ProducerId, 0, commit: true));
        // Markers cannot be written: the transaction stays prepared, and the producer is told to retry meanwhile.
        Assert.Equal(TransactionState.PrepareCommit, first.Describe("tx").State!.State);
        Assert.Equal(ErrorCode.ConcurrentTransactions, await first.AddPartitionsAsync("tx", init.ProducerId, 0, [P0]));
        Assert.Equal(ErrorCode.ConcurrentTransactions, await first.EndTransactionAsync("tx", init.ProducerId, 0, commit: true));
        Assert.Equal(ErrorCode.InvalidTxnState, await first.EndTransactionAsync("tx", init.ProducerId, 0, commit: false));
        first.Close(); // leadership moves (or the node stops) before the markers are written

        var markers = new RecordingMarkers(ErrorCode.None);
        var second = Shard(log, markers, time, epoch: 1);
        await WaitForStateAsync(second, "tx", TransactionState.CompleteCommit);
        var marker = Assert.Single(markers.Written);
        Assert.True(marker.Commit);
        Assert.Equal((init.ProducerId, (short)0, 1), (marker.ProducerId, marker.ProducerEpoch, marker.CoordinatorEpoch));
        Assert.Equal([P0, P1], marker.Partitions.Order());
        // A retried EndTxn of the finished transaction is answered NONE; the opposite outcome is refused.
        Assert.Equal(ErrorCode.None, await second.EndTransactionAsync("tx", init.ProducerId, 0, commit: true));
        Assert.Equal(ErrorCode.InvalidTxnState, await second.EndTransactionAsync("tx", init.ProducerId, 0, commit: false));
        second.Close();

        // And a third load sees the completed state without writing anything.
        var again = new RecordingMarkers(ErrorCode.None);
        var third = Shard(log, again, time, epoch: 2);
        Assert.Equal(TransactionState.CompleteCommit, third.Describe("tx").State!.State);
        Assert.Empty(again.Written);
    }

    [Fact]
    public async Task Timed_out_transaction_is_aborted_under_a_bumped_epoch_which_fences_the_producer()
    {
        var log = new InMemoryCoordinatorLog();
        var time = new ManualTimeProvider();
        var markers = new RecordingMarkers(ErrorCode.None);
        var shard = Shard(log, markers, time);
        var init = await shard.InitProducerIdAsync("slow", 5_000, -1, -1, default);
        Assert.Equal(ErrorCode.None, await shard.AddPartitionsAsync("slow", init.ProducerId, init.ProducerEpoch, [P0]));
        time.Advance(TimeSpan.FromMilliseconds(4_000));
        Assert.Equal(0, shard.AbortTimedOutTransactions());
        time.Advance(TimeSpan.FromMilliseconds(2_000)); // the periodic check fires and aborts
        await WaitForStateAsync(shard, "slow", TransactionState.CompleteAbort);
        var marker = Assert.Single(markers.Written);
        Assert.False(marker.Commit);
        Assert.Equal(init.ProducerEpoch + 1, marker.ProducerEpoch);
        Assert.Equal(ErrorCode.ProducerFenced, await shard.AddPartitionsAsync("slow", init.ProducerId, init.ProducerEpoch, [P0]));
        Assert.Equal(ErrorCode.ProducerFenced, await shard.EndTransactionAsync("slow", init.ProducerId, init.ProducerEpoch, commit: true));
        // The producer re-initializes and gets the next epoch.
        var reinit = await shard.InitProducerIdAsync("slow", 5_000, init.ProducerId, (short)(init.ProducerEpoch + 1), default);
        Assert.Equal((ErrorCode.None, init.ProducerId, (short)(init.ProducerEpoch + 2)), (reinit.Error, reinit.ProducerId, reinit.ProducerEpoch));
        shard.Close();
    }

    [Fact]
    public async Task Init_validates_the_timeout_and_fences_an_open_transaction()
    {
        var log = new InMemoryCoordinatorLog();
        var markers = new RecordingMarkers(ErrorCode.None);
        var shard = Shard(log, markers, new ManualTimeProvider());
        Assert.Equal(ErrorCode.InvalidTransactionTimeout, (await shard.InitProducerIdAsync("t", 60_001, -1, -1, default)).Error);
        Assert.Equal(ErrorCode.InvalidTransactionTimeout, (await shard.InitProducerIdAsync("t", 0, -1, -1, default)).Error);
        var first = await shard.InitProducerIdAsync("t", 10_000, -1, -1, default);
        Assert.Equal(ErrorCode.None, await shard.AddPartitionsAsync("t", first.ProducerId, first.ProducerEpoch, [P0]));
        Assert.Equal(ErrorCode.None, shard.VerifyPartition("t", first.ProducerId, first.ProducerEpoch, P0));
        Assert.Equal(ErrorCode.InvalidTxnState, shard.VerifyPartition("t", first.ProducerId, first.ProducerEpoch, P1));
        Assert.Equal(ErrorCode.InvalidProducerIdMapping, await shard.AddPartitionsAsync("t", first.ProducerId + 1, first.ProducerEpoch, [P0]));

        // A second producer: the open transaction is aborted under a bumped epoch; the new producer retries.
        Assert.Equal(ErrorCode.ConcurrentTransactions, (await shard.InitProducerIdAsync("t", 10_000, -1, -1, default)).Error);
        await WaitForStateAsync(shard, "t", TransactionState.CompleteAbort);
        var second = await shard.InitProducerIdAsync("t", 10_000, -1, -1, default);
        Assert.Equal((ErrorCode.None, first.ProducerId, (short)2), (second.Error, second.ProducerId, second.ProducerEpoch));
        Assert.False(Assert.Single(markers.Written).Commit);
        // The first producer is fenced everywhere, including a KIP-360 re-init with its old epoch.
        Assert.Equal(ErrorCode.ProducerFenced, await shard.EndTransactionAsync("t", first.ProducerId, first.ProducerEpoch, commit: true));
        Assert.Equal(ErrorCode.ProducerFenced, (await shard.InitProducerIdAsync("t", 10_000, first.ProducerId, first.ProducerEpoch, default)).Error);
        Assert.Equal(ErrorCode.InvalidTxnState, await shard.EndTransactionAsync("t", second.ProducerId, second.ProducerEpoch, commit: true));
        shard.Close();
    }
}

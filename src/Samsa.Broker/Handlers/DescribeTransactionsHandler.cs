// DescribeTransactions (key 65), version 0.
// State, timeout, start time, producer id/epoch and partitions of each transactional id this node coordinates
// (NOT_COORDINATOR for the others, TRANSACTIONAL_ID_NOT_FOUND for unknown ids). Start time is -1 when no transaction
// is open. Authorization: DESCRIBE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DescribeTransactionsHandler(TransactionCoordinator transactions)
    : ApiHandler<DescribeTransactionsRequest, DescribeTransactionsResponse>
{
    public override ApiKey ApiKey => ApiKey.DescribeTransactions;
    public override VersionRange Versions => new(0, 0);

    protected override ValueTask<DescribeTransactionsResponse?> HandleAsync(RequestContext context, DescribeTransactionsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeTransactionsResponse();
        foreach (string id in request.TransactionalIds)
        {
            var state = new DescribeTransactionsResponse.TransactionState { TransactionalId = id, ProducerId = -1, ProducerEpoch = -1, TransactionStartTimeMs = -1 };
            response.TransactionStates.Add(state);
            if (!context.Authorize(AclOperation.Describe, ResourceType.TransactionalId, id))
            {
                state.ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed;
                continue;
            }
            var (shard, error) = transactions.ShardFor(id);
            TxnSnapshot? snapshot = null;
            if (shard is not null) (error, snapshot) = shard.Describe(id);
            state.ErrorCode = (short)error;
            if (snapshot is null) continue;
            state.State = TxnSnapshot.StateName(snapshot.State);
            state.TransactionTimeoutMs = snapshot.TimeoutMs;
            state.TransactionStartTimeMs = snapshot.State == TransactionState.Empty ? -1 : snapshot.StartTimeMs;
            state.ProducerId = snapshot.ProducerId;
            state.ProducerEpoch = snapshot.ProducerEpoch;
            state.Topics = snapshot.Partitions.GroupBy(p => p.Topic, StringComparer.Ordinal)
                .Select(g => new DescribeTransactionsResponse.TopicData { Topic = g.Key, Partitions = g.Select(p => p.Partition).ToList() })
                .ToList();
        }
        return ValueTask.FromResult<DescribeTransactionsResponse?>(response);
    }
}

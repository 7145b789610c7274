// EndTxn (key 26), versions 0-4.
// Commits or aborts the producer's transaction: answered once the decision (PrepareCommit / PrepareAbort) is durable in
// __transaction_state; the markers follow, and until they are written the next AddPartitionsToTxn / InitProducerId of
// the id answers CONCURRENT_TRANSACTIONS. A retry of a finished EndTxn with the same outcome answers NONE; the other
// outcome INVALID_TXN_STATE. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2 (KIP-588). v5 (KIP-890 part 2, an
// epoch bump per transaction) is not served. Authorization: WRITE on the transactional id.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class EndTxnHandler(TransactionCoordinator transactions) : ApiHandler<EndTxnRequest, EndTxnResponse>
{
    public override ApiKey ApiKey => ApiKey.EndTxn;
    public override VersionRange Versions => new(0, 4);

    protected override async ValueTask<EndTxnResponse?> HandleAsync(RequestContext context, EndTxnRequest request, CancellationToken cancellationToken)
    {
        if (!context.Authorize(AclOperation.Write, ResourceType.TransactionalId, request.TransactionalId))
            return new EndTxnResponse { ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed };
        var (shard, error) = await transactions.ShardForAsync(request.TransactionalId, cancellationToken).ConfigureAwait(false);
        if (shard is not null)
            error = await shard.EndTransactionAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, request.Committed)
                .ConfigureAwait(false);
        if (error == ErrorCode.ProducerFenced && context.ApiVersion < 2) error = ErrorCode.InvalidProducerEpoch;
        return new EndTxnResponse { ErrorCode = (short)error };
    }
}

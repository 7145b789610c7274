// AddOffsetsToTxn (key 25), versions 0-4.
// Adds the group's __consumer_offsets partition (Kafka's hash of the group id) to the producer's transaction, so the
// offsets the producer then sends with TxnOffsetCommit commit or abort with it. Errors as AddPartitionsToTxn
// (PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2, KIP-588).
// Authorization: WRITE on the transactional id, READ on the group.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class AddOffsetsToTxnHandler(TransactionCoordinator transactions, GroupCoordinator groups)
    : ApiHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>
{
    public override ApiKey ApiKey => ApiKey.AddOffsetsToTxn;
    public override VersionRange Versions => new(0, 4);

    protected override async ValueTask<AddOffsetsToTxnResponse?> HandleAsync(RequestContext context, AddOffsetsToTxnRequest request, CancellationToken cancellationToken)
    {
        if (!context.Authorize(AclOperation.Write, ResourceType.TransactionalId, request.TransactionalId))
            return new AddOffsetsToTxnResponse { ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed };
        if (!context.Authorize(AclOperation.Read, ResourceType.Group, request.GroupId))
            return new AddOffsetsToTxnResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        if (request.GroupId.Length == 0) return new AddOffsetsToTxnResponse { ErrorCode = (short)ErrorCode.InvalidGroupId };
        if (!await groups.EnsureOffsetsTopicAsync(cancellationToken).ConfigureAwait(false))
            return new AddOffsetsToTxnResponse { ErrorCode = (short)ErrorCode.CoordinatorNotAvailable };
        var (shard, error) = await transactions.ShardForAsync(request.TransactionalId, cancellationToken).ConfigureAwait(false);
        if (shard is not null)
        {
            var offsetsPartition = new TxnPartition(GroupCoordinator.OffsetsTopic, groups.PartitionFor(request.GroupId));
            error = await shard.AddPartitionsAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, [offsetsPartition])
                .ConfigureAwait(false);
        }
        if (error == ErrorCode.ProducerFenced && context.ApiVersion < 2) error = ErrorCode.InvalidProducerEpoch;
        return new AddOffsetsToTxnResponse { ErrorCode = (short)error };
    }
}

// InitProducerId (key 22), versions 0-5.
// Idempotent producers (null transactional id) always get a fresh producer id with epoch 0, as Kafka's
// TransactionCoordinator does (also when a v3+ client passes its current id to recover, KIP-360).
// Transactional producers go to the transaction coordinator of their transactional id (NOT_COORDINATOR elsewhere,
// COORDINATOR_LOAD_IN_PROGRESS while it loads): a new id gets a fresh producer id, a known one a bumped epoch that
// fences older producers; an open transaction is aborted first and the client retries on CONCURRENT_TRANSACTIONS.
// transaction_timeout_ms must be in (0, transaction.max.timeout.ms] (INVALID_TRANSACTION_TIMEOUT). An empty
// transactional id is INVALID_REQUEST, as Kafka. PRODUCER_FENCED is answered as INVALID_PRODUCER_EPOCH below v4
// (KIP-588). Authorization: WRITE on the transactional id; for idempotent producers IDEMPOTENT_WRITE on the cluster,
// or WRITE on at least one topic (KIP-679), else CLUSTER_AUTHORIZATION_FAILED.
using Samsa.Broker.Api;
using Samsa.Broker.Producers;
using Samsa.Broker.Security;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class InitProducerIdHandler(ProducerIdManager producerIds, TransactionCoordinator transactions)
    : ApiHandler<InitProducerIdRequest, InitProducerIdResponse>
{
    public override ApiKey ApiKey => ApiKey.InitProducerId;
    public override VersionRange Versions => new(0, 5);

    protected override async ValueTask<InitProducerIdResponse?> HandleAsync(RequestContext context, InitProducerIdRequest request, CancellationToken cancellationToken)
    {
        if (request.TransactionalId is { } transactionalId)
        {
            if (transactionalId.Length == 0) return new InitProducerIdResponse { ErrorCode = (short)ErrorCode.InvalidRequest };
            if (!context.Authorize(AclOperation.Write, ResourceType.TransactionalId, transactionalId))
                return new InitProducerIdResponse { ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed };
            var (shard, error) = await transactions.ShardForAsync(transactionalId, cancellationToken).ConfigureAwait(false);
            if (shard is null) return new InitProducerIdResponse { ErrorCode = (short)error };
            long expectedId = context.ApiVersion >= 3 ? request.ProducerId : -1;
            short expectedEpoch = context.ApiVersion >= 3 ? request.ProducerEpoch : (short)-1;
            var result = await shard.InitProducerIdAsync(transactionalId, request.TransactionTimeoutMs, expectedId, expectedEpoch, cancellationToken)
                .ConfigureAwait(false);
            var code = result.Error == ErrorCode.ProducerFenced && context.ApiVersion < 4 ? ErrorCode.InvalidProducerEpoch : result.Error;
            return new InitProducerIdResponse { ErrorCode = (short)code, ProducerId = result.ProducerId, ProducerEpoch = result.ProducerEpoch };
        }

        if (!context.Authorize(AclOperation.IdempotentWrite, ResourceType.Cluster, "kafka-cluster")
            && !context.AuthorizeByResourceType(AclOperation.Write, ResourceType.Topic))
            return new InitProducerIdResponse { ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed };

        long id = await producerIds.NextAsync(cancellationToken).ConfigureAwait(false);
        return new InitProducerIdResponse { ProducerId = id, ProducerEpoch = 0 };
    }
}

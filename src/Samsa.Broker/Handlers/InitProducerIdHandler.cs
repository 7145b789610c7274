// InitProducerId (key 22), versions 0-5.
// Idempotent producers (null transactional id) always get a fresh producer id with epoch 0, as Kafka's
// TransactionCoordinator does (also when a v3+ client passes its current id to recover, KIP-360).
// Transactions arrive with the transactions issue; until then a non-null transactional id gets
// COORDINATOR_NOT_AVAILABLE rather than a fake success.
// Authorization: IDEMPOTENT_WRITE on the cluster, or WRITE on at least one topic (KIP-679), else CLUSTER_AUTHORIZATION_FAILED.
using Samsa.Broker.Api;
using Samsa.Broker.Producers;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class InitProducerIdHandler(ProducerIdManager producerIds) : ApiHandler<InitProducerIdRequest, InitProducerIdResponse>
{
    public override ApiKey ApiKey => ApiKey.InitProducerId;
    public override VersionRange Versions => new(0, 5);

    protected override async ValueTask<InitProducerIdResponse?> HandleAsync(RequestContext context, InitProducerIdRequest request, CancellationToken cancellationToken)
    {
        if (request.TransactionalId is not null)
            return new InitProducerIdResponse { ErrorCode = (short)ErrorCode.CoordinatorNotAvailable };

        if (!context.Authorize(AclOperation.IdempotentWrite, ResourceType.Cluster, "kafka-cluster")
            && !context.AuthorizeByResourceType(AclOperation.Write, ResourceType.Topic))
            return new InitProducerIdResponse { ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed };

        long id = await producerIds.NextAsync(cancellationToken).ConfigureAwait(false);
        return new InitProducerIdResponse { ProducerId = id, ProducerEpoch = 0 };
    }
}

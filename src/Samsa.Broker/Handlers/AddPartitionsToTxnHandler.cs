// AddPartitionsToTxn (key 24), versions 0-5.
// v0-3 (clients): adds the partitions to the producer's transaction at its coordinator, starting the transaction.
// v4-5 (KIP-890, brokers): several transactions per request; verify_only checks that the partitions are already in the
// open transaction (INVALID_TXN_STATE when not) without changing anything. Per partition: UNKNOWN_TOPIC_OR_PARTITION
// and TOPIC_AUTHORIZATION_FAILED are answered for the bad ones and OPERATION_NOT_ATTEMPTED for the others, as Kafka;
// otherwise every partition gets the coordinator's answer (PRODUCER_FENCED, CONCURRENT_TRANSACTIONS, ...;
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2, KIP-588). Authorization: WRITE on the transactional id and on
// each topic; CLUSTER_ACTION for v4+.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Transactions;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using TopicResult = Samsa.Protocol.Messages.AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult;

namespace Samsa.Broker.Handlers;

public sealed class AddPartitionsToTxnHandler(TransactionCoordinator transactions, IMetadataLog metadata)
    : ApiHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>
{
    public override ApiKey ApiKey => ApiKey.AddPartitionsToTxn;
    public override VersionRange Versions => new(0, 5);

    protected override async ValueTask<AddPartitionsToTxnResponse?> HandleAsync(RequestContext context, AddPartitionsToTxnRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        var response = new AddPartitionsToTxnResponse();
        if (version < 4)
        {
            response.ResultsByTopicV3AndBelow = await AddAsync(context, request.V3AndBelowTransactionalId, request.V3AndBelowProducerId,
                request.V3AndBelowProducerEpoch, request.V3AndBelowTopics, verifyOnly: false, cancellationToken).ConfigureAwait(false);
            return response;
        }
        if (!context.Authorize(AclOperation.ClusterAction, ResourceType.Cluster, "kafka-cluster"))
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            return response;
        }
        foreach (var txn in request.Transactions)
        {
            response.ResultsByTransaction.Add(new AddPartitionsToTxnResponse.AddPartitionsToTxnResult
            {
                TransactionalId = txn.TransactionalId,
                TopicResults = await AddAsync(context, txn.TransactionalId, txn.ProducerId, txn.ProducerEpoch, txn.Topics, txn.VerifyOnly,
                    cancellationToken).ConfigureAwait(false),
            });
        }
        return response;
    }

    private async Task<List<TopicResult>> AddAsync(RequestContext context, string transactionalId, long producerId, short epoch,
        List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics, bool verifyOnly, CancellationToken ct)
    {
        var errors = new Dictionary<TxnPartition, ErrorCode>();
        var partitions = new List<TxnPartition>();
        var image = metadata.Image;
        foreach (var topic in topics)
        {
            bool authorized = context.Authorize(AclOperation.Write, ResourceType.Topic, topic.Name);
            var t = image.Topic(topic.Name);
            foreach (int p in topic.Partitions)
            {
                var tp = new TxnPartition(topic.Name, p);
                partitions.Add(tp);
                if (!authorized) errors[tp] = ErrorCode.TopicAuthorizationFailed;
                else if (t is null || p < 0 || p >= t.Partitions.Length) errors[tp] = ErrorCode.UnknownTopicOrPartition;
            }
        }
        ErrorCode all;
        if (!context.Authorize(AclOperation.Write, ResourceType.TransactionalId, transactionalId)) all = ErrorCode.TransactionalIdAuthorizationFailed;
        else if (errors.Count > 0) all = ErrorCode.OperationNotAttempted;
        else
        {
            var (shard, error) = await transactions.ShardForAsync(transactionalId, ct).ConfigureAwait(false);
            all = shard is null ? error
                : await shard.AddPartitionsAsync(transactionalId, producerId, epoch, partitions, verifyOnly).ConfigureAwait(false);
            if (all == ErrorCode.ProducerFenced && context.ApiVersion < 2) all = ErrorCode.InvalidProducerEpoch;
        }
        return partitions.GroupBy(p => p.Topic, StringComparer.Ordinal).Select(g => new TopicResult
        {
            Name = g.Key,
            ResultsByPartition = g.Select(p => new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult
            {
                PartitionIndex = p.Partition,
                PartitionErrorCode = (short)(errors.TryGetValue(p, out var e) ? e : all),
            }).ToList(),
        }).ToList();
    }
}

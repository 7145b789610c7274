// TxnOffsetCommit (key 28), versions 0-4.
// Offsets committed inside a transaction, sent to the group's coordinator: written to __consumer_offsets as part of the
// producer's transaction and held pending (OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT) until the
// transaction's marker commits or drops them. KIP-890 part 1: the group's __consumer_offsets partition must be in the
// producer's open transaction (AddOffsetsToTxn first), checked when this node coordinates the transactional id, else
// INVALID_TXN_STATE. v3+ member id / generation / instance id are validated like OffsetCommit when given.
// A stale epoch answers PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v3, KIP-588); metadata above 4096 bytes
// OFFSET_METADATA_TOO_LARGE. Authorization: WRITE on the transactional id, READ on the group and on each topic.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Broker.Transactions;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class TxnOffsetCommitHandler(GroupCoordinator groups, TransactionCoordinator transactions, IMetadataLog metadata)
    : ApiHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse>
{
    private const int MaxMetadataBytes = 4096;

    public override ApiKey ApiKey => ApiKey.TxnOffsetCommit;
    public override VersionRange Versions => new(0, 4);

    protected override async ValueTask<TxnOffsetCommitResponse?> HandleAsync(RequestContext context, TxnOffsetCommitRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        var response = new TxnOffsetCommitResponse();
        var results = new Dictionary<(string, int), TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition>();
        foreach (var topic in request.Topics)
        {
            var t = new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic { Name = topic.Name };
            foreach (var p in topic.Partitions)
            {
                var r = new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex };
                t.Partitions.Add(r);
                results[(topic.Name, p.PartitionIndex)] = r;
            }
            response.Topics.Add(t);
        }

        ErrorCode groupError = ErrorCode.None;
        GroupCoordinatorShard? shard = null;
        if (!context.Authorize(AclOperation.Write, ResourceType.TransactionalId, request.TransactionalId))
            groupError = ErrorCode.TransactionalIdAuthorizationFailed;
        else if (!context.Authorize(AclOperation.Read, ResourceType.Group, request.GroupId)) groupError = ErrorCode.GroupAuthorizationFailed;
        else if (request.GroupId.Length == 0) groupError = ErrorCode.InvalidGroupId;
        else (shard, groupError) = await groups.ShardForAsync(request.GroupId, cancellationToken).ConfigureAwait(false);
        if (shard is not null)
        {
            groupError = await transactions.VerifyTransactionalProduceAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch,
                GroupCoordinator.OffsetsTopic, shard.PartitionIndex, cancellationToken).ConfigureAwait(false);
            if (groupError != ErrorCode.None) shard = null;
        }
        if (shard is null)
        {
            foreach (var r in results.Values) r.ErrorCode = (short)Fenced(groupError, version);
            return response;
        }

        var image = metadata.Image;
        var entries = new List<OffsetCommitEntry>();
        foreach (var topic in request.Topics)
        {
            bool authorized = context.Authorize(AclOperation.Read, ResourceType.Topic, topic.Name);
            var topicImage = image.Topic(topic.Name);
            foreach (var p in topic.Partitions)
            {
                var r = results[(topic.Name, p.PartitionIndex)];
                if (!authorized) r.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                else if (topicImage is null || p.PartitionIndex < 0 || p.PartitionIndex >= topicImage.Partitions.Length)
                    r.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                else if (p.CommittedMetadata is { Length: > MaxMetadataBytes }) r.ErrorCode = (short)ErrorCode.OffsetMetadataTooLarge;
                else entries.Add(new OffsetCommitEntry(topic.Name, p.PartitionIndex, p.CommittedOffset,
                    version >= 2 ? p.CommittedLeaderEpoch : -1, p.CommittedMetadata));
            }
        }
        var error = await shard.CommitTxnOffsetsAsync(request.GroupId, request.ProducerId, request.ProducerEpoch,
            version >= 3 ? request.GenerationId : -1, version >= 3 ? request.MemberId : "", version >= 3 ? request.GroupInstanceId : null,
            entries).ConfigureAwait(false);
        foreach (var e in entries) results[(e.Topic, e.Partition)].ErrorCode = (short)Fenced(error, version);
        return response;
    }

    private static ErrorCode Fenced(ErrorCode error, short version) =>
        error == ErrorCode.ProducerFenced && version < 3 ? ErrorCode.InvalidProducerEpoch : error;
}

// OffsetCommit (key 8), versions 0-9.
// Group commits are validated against the member and generation (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
// REBALANCE_IN_PROGRESS while the group awaits its assignment, FENCED_INSTANCE_ID v7+); a simple commit
// (generation -1, v0 always) is accepted for an empty or unknown group. The response waits until the offsets are
// durable in __consumer_offsets. v1 per-partition commit timestamps are ignored (the broker's clock is used);
// v2-4 retention_time_ms sets an explicit expiry (OffsetCommitValue v1). Metadata above 4096 bytes gets
// OFFSET_METADATA_TOO_LARGE. Authorization: READ on the group, READ on each topic (TOPIC_AUTHORIZATION_FAILED).
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class OffsetCommitHandler(GroupCoordinator groups, IMetadataLog metadata, TimeProvider time)
    : ApiHandler<OffsetCommitRequest, OffsetCommitResponse>
{
    private const int MaxMetadataBytes = 4096;

    public override ApiKey ApiKey => ApiKey.OffsetCommit;
    public override VersionRange Versions => new(0, 9);

    protected override async ValueTask<OffsetCommitResponse?> HandleAsync(RequestContext context, OffsetCommitRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        var response = new OffsetCommitResponse();
        var results = new Dictionary<(string, int), OffsetCommitResponse.OffsetCommitResponsePartition>();
        foreach (var topic in request.Topics)
        {
            var t = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = topic.Name };
            foreach (var p in topic.Partitions)
            {
                var r = new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex };
                t.Partitions.Add(r);
                results[(topic.Name, p.PartitionIndex)] = r;
            }
            response.Topics.Add(t);
        }

        ErrorCode groupError = ErrorCode.None;
        GroupCoordinatorShard? shard = null;
        if (!context.Authorize(AclOperation.Read, ResourceType.Group, request.GroupId)) groupError = ErrorCode.GroupAuthorizationFailed;
        else if (request.GroupId.Length == 0) groupError = ErrorCode.InvalidGroupId;
        else (shard, groupError) = await groups.ShardForAsync(request.GroupId, cancellationToken).ConfigureAwait(false);
        if (shard is null)
        {
            foreach (var r in results.Values) r.ErrorCode = (short)groupError;
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
                    version >= 6 ? p.CommittedLeaderEpoch : -1, p.CommittedMetadata));
            }
        }

        long expire = version is >= 2 and <= 4 && request.RetentionTimeMs != -1
            ? time.GetUtcNow().ToUnixTimeMilliseconds() + request.RetentionTimeMs
            : -1;
        var error = await shard.CommitOffsetsAsync(request.GroupId, version >= 1 ? request.GenerationIdOrMemberEpoch : -1,
            version >= 1 ? request.MemberId : "", version >= 7 ? request.GroupInstanceId : null, expire, entries).ConfigureAwait(false);
        foreach (var e in entries) results[(e.Topic, e.Partition)].ErrorCode = (short)error;
        return response;
    }
}

// ConsumerGroupHeartbeat (key 68), versions 0-1 (KIP-848, the consumer rebalance protocol).
// Joins (epoch 0), heartbeats, leaves (-1) and static leaves (-2) of consumer protocol members; the coordinator
// computes the target assignment with a server-side assignor (uniform, range: group.consumer.assignors) and
// reconciles each member incrementally. v0: the coordinator generates the member id on join; v1 (KIP-1082): the
// client generates it and an empty member id is INVALID_REQUEST. SubscribedTopicRegex (v1) is matched in full with
// .NET regular expressions (Kafka: RE2/J), resolved at each heartbeat. Deviation: heartbeat interval and session
// timeout are broker-wide (group.consumer.*), not per-group configs. Authorization: READ on the group; topics a
// principal may not DESCRIBE are invisible to its subscription.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class ConsumerGroupHeartbeatHandler(GroupCoordinator groups, IMetadataLog metadata)
    : ApiHandler<ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse>
{
    public override ApiKey ApiKey => ApiKey.ConsumerGroupHeartbeat;
    public override VersionRange Versions => new(0, 1);

    protected override async ValueTask<ConsumerGroupHeartbeatResponse?> HandleAsync(RequestContext context, ConsumerGroupHeartbeatRequest request,
        CancellationToken cancellationToken)
    {
        if (!context.Authorize(AclOperation.Read, ResourceType.Group, request.GroupId))
            return Error(ErrorCode.GroupAuthorizationFailed, null);
        if (request.GroupId.Length == 0) return Error(ErrorCode.InvalidRequest, "GroupId can't be empty.");
        var (shard, error) = await groups.ShardForAsync(request.GroupId, cancellationToken).ConfigureAwait(false);
        if (shard is null) return Error(error, null);

        var image = metadata.Image;
        var command = new ConsumerGroupHeartbeatCommand(request.GroupId, request.MemberId, request.MemberEpoch, request.InstanceId,
            request.RackId, request.RebalanceTimeoutMs, request.SubscribedTopicNames,
            context.ApiVersion >= 1 ? request.SubscribedTopicRegex : null, request.ServerAssignor,
            request.TopicPartitions?.SelectMany(t => t.Partitions.Select(p => new TopicIdPartition(t.TopicId, p))).ToList(),
            context.Header.ClientId ?? "", "/" + context.Session.Host, context.ApiVersion);
        var result = await shard.Consumer.HeartbeatAsync(command, new ImageTopicCatalog(image, context)).ConfigureAwait(false);
        if (result.Error != ErrorCode.None) return Error(result.Error, result.ErrorMessage);
        return new ConsumerGroupHeartbeatResponse
        {
            MemberId = result.MemberId,
            MemberEpoch = result.MemberEpoch,
            HeartbeatIntervalMs = result.HeartbeatIntervalMs,
            Assignment = result.Assignment is null ? null : new ConsumerGroupHeartbeatResponse.AssignmentData
            {
                TopicPartitions = ConsumerGroupRecordSerde.ToWire(result.Assignment)
                    .Select(t => new ConsumerGroupHeartbeatResponse.TopicPartitions { TopicId = t.TopicId, Partitions = t.Partitions }).ToList(),
            },
        };
    }

    private static ConsumerGroupHeartbeatResponse Error(ErrorCode error, string? message) =>
        new() { ErrorCode = (short)error, ErrorMessage = message, MemberEpoch = -1 };

    /// <summary>The topics of the metadata image the requesting principal may describe.</summary>
    private sealed class ImageTopicCatalog(MetadataImage image, RequestContext context) : ITopicCatalog
    {
        public ConsumerGroupTopic? Topic(string name) =>
            image.Topic(name) is { } t && context.Authorize(AclOperation.Describe, ResourceType.Topic, name) ? Of(t) : null;

        public IEnumerable<ConsumerGroupTopic> Topics =>
            image.TopicsByName.Values.Where(t => !t.IsInternal && context.Authorize(AclOperation.Describe, ResourceType.Topic, t.Name)).Select(Of);

        private static ConsumerGroupTopic Of(TopicImage t) => new(t.TopicId, t.Name, t.Partitions.Length);
    }
}

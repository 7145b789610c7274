// OffsetDelete (key 47), version 0 (KIP-496).
// Deletes committed offsets of a group: GROUP_ID_NOT_FOUND for an unknown group; NON_EMPTY_GROUP for a non-empty
// group that is not a consumer group; per partition GROUP_SUBSCRIBED_TO_TOPIC when a member's
// ConsumerProtocolSubscription names the topic. Authorization: DELETE on the group, READ on each topic.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class OffsetDeleteHandler(GroupCoordinator groups) : ApiHandler<OffsetDeleteRequest, OffsetDeleteResponse>
{
    public override ApiKey ApiKey => ApiKey.OffsetDelete;
    public override VersionRange Versions => new(0, 0);

    protected override async ValueTask<OffsetDeleteResponse?> HandleAsync(RequestContext context, OffsetDeleteRequest request, CancellationToken cancellationToken)
    {
        if (!context.Authorize(AclOperation.Delete, ResourceType.Group, request.GroupId))
            return new OffsetDeleteResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        var (shard, error) = await groups.ShardForAsync(request.GroupId, cancellationToken).ConfigureAwait(false);
        if (shard is null) return new OffsetDeleteResponse { ErrorCode = (short)error };

        var response = new OffsetDeleteResponse();
        var toDelete = new List<(string Topic, int Partition)>();
        var slots = new List<OffsetDeleteResponse.OffsetDeleteResponsePartition>();
        foreach (var topic in request.Topics)
        {
            var t = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = topic.Name };
            response.Topics.Add(t);
            bool authorized = context.Authorize(AclOperation.Read, ResourceType.Topic, topic.Name);
            foreach (var p in topic.Partitions)
            {
                var r = new OffsetDeleteResponse.OffsetDeleteResponsePartition { PartitionIndex = p.PartitionIndex };
                t.Partitions.Add(r);
                if (!authorized) r.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                else
                {
                    toDelete.Add((topic.Name, p.PartitionIndex));
                    slots.Add(r);
                }
            }
        }
        var (top, results) = await shard.DeleteOffsetsAsync(request.GroupId, toDelete).ConfigureAwait(false);
        if (top != ErrorCode.None) return new OffsetDeleteResponse { ErrorCode = (short)top };
        for (int i = 0; i < slots.Count; i++) slots[i].ErrorCode = (short)results[i];
        return response;
    }
}

// ConsumerGroupDescribe (key 69), version 0 (KIP-848).
// Group epoch, assignment epoch, assignor and every member with its subscription, current assignment and target
// assignment (topic ids and names). GROUP_ID_NOT_FOUND for an unknown group or a classic group, as Kafka.
// Authorized operations when asked. Authorization: DESCRIBE on the group.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class ConsumerGroupDescribeHandler(GroupCoordinator groups, IMetadataLog metadata)
    : ApiHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse>
{
    private static readonly AclOperation[] GroupOperations = [AclOperation.Read, AclOperation.Describe, AclOperation.Delete];

    public override ApiKey ApiKey => ApiKey.ConsumerGroupDescribe;
    public override VersionRange Versions => new(0, 0);

    protected override async ValueTask<ConsumerGroupDescribeResponse?> HandleAsync(RequestContext context, ConsumerGroupDescribeRequest request,
        CancellationToken cancellationToken)
    {
        var response = new ConsumerGroupDescribeResponse();
        foreach (string groupId in request.GroupIds)
        {
            var described = new ConsumerGroupDescribeResponse.DescribedGroup { GroupId = groupId };
            response.Groups.Add(described);
            if (!context.Authorize(AclOperation.Describe, ResourceType.Group, groupId))
            {
                described.ErrorCode = (short)ErrorCode.GroupAuthorizationFailed;
                continue;
            }
            var (shard, error) = await groups.ShardForAsync(groupId, cancellationToken).ConfigureAwait(false);
            if (shard is null)
            {
                described.ErrorCode = (short)error;
                continue;
            }
            var (describeError, message, group) = shard.Consumer.Describe(groupId);
            if (group is null)
            {
                described.ErrorCode = (short)describeError;
                described.ErrorMessage = message;
                continue;
            }
            var image = metadata.Image;
            string NameOf(Guid id) => group.TopicNames.GetValueOrDefault(id) ?? image.TopicsById.GetValueOrDefault(id)?.Name ?? "";
            ConsumerGroupDescribeResponse.Assignment Wire(IReadOnlySet<TopicIdPartition> partitions) => new()
            {
                TopicPartitions = ConsumerGroupRecordSerde.ToWire(partitions).Select(t => new ConsumerGroupDescribeResponse.TopicPartitions
                {
                    TopicId = t.TopicId, TopicName = NameOf(t.TopicId), Partitions = t.Partitions,
                }).ToList(),
            };
            described.GroupState = group.State;
            described.GroupEpoch = group.GroupEpoch;
            described.AssignmentEpoch = group.AssignmentEpoch;
            described.AssignorName = group.AssignorName;
            described.Members = group.Members.Select(m => new ConsumerGroupDescribeResponse.Member
            {
                MemberId = m.MemberId,
                InstanceId = m.InstanceId,
                RackId = m.RackId,
                MemberEpoch = m.MemberEpoch,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                SubscribedTopicNames = [.. m.SubscribedTopicNames],
                SubscribedTopicRegex = m.SubscribedTopicRegex,
                Assignment = Wire(m.Assignment),
                TargetAssignment = Wire(m.TargetAssignment),
            }).ToList();
            if (request.IncludeAuthorizedOperations)
                described.AuthorizedOperations = MetadataHandler.AuthorizedOperations(context, ResourceType.Group, groupId, GroupOperations);
        }
        return response;
    }
}

// DescribeGroups (key 15), versions 0-5.
// Members with client id, host, and (in Stable) their metadata for the selected protocol and their assignment;
// group instance ids v4+; authorized operations v3+ when asked. An unknown group is answered as Kafka does up to
// v5: state "Dead", error NONE. Authorization: DESCRIBE on the group.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DescribeGroupsHandler(GroupCoordinator groups) : ApiHandler<DescribeGroupsRequest, DescribeGroupsResponse>
{
    private static readonly AclOperation[] GroupOperations = [AclOperation.Read, AclOperation.Describe, AclOperation.Delete];

    public override ApiKey ApiKey => ApiKey.DescribeGroups;
    public override VersionRange Versions => new(0, 5);

    protected override async ValueTask<DescribeGroupsResponse?> HandleAsync(RequestContext context, DescribeGroupsRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        var response = new DescribeGroupsResponse();
        foreach (string groupId in request.Groups)
        {
            var described = new DescribeGroupsResponse.DescribedGroup { GroupId = groupId };
            response.Groups.Add(described);
            if (!context.Authorize(AclOperation.Describe, ResourceType.Group, groupId))
            {
                described.ErrorCode = (short)ErrorCode.GroupAuthorizationFailed;
                continue;
            }
            var (shard, error) = await groups.ShardForAsync(groupId, cancellationToken).ConfigureAwait(false);
            GroupDescription? group = null;
            if (shard is not null) (error, group) = shard.Describe(groupId);
            if (error != ErrorCode.None)
            {
                described.ErrorCode = (short)error;
                continue;
            }
            if (group is null)
            {
                described.GroupState = "Dead";
                continue;
            }
            described.GroupState = group.State;
            described.ProtocolType = group.ProtocolType;
            described.ProtocolData = group.ProtocolData;
            described.Members = group.Members.Select(m => new DescribeGroupsResponse.DescribedGroupMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = version >= 4 ? m.GroupInstanceId : null,
                ClientId = m.ClientId,
                ClientHost = m.ClientHost,
                MemberMetadata = m.Metadata,
                MemberAssignment = m.Assignment,
            }).ToList();
            if (version >= 3 && request.IncludeAuthorizedOperations)
                described.AuthorizedOperations = MetadataHandler.AuthorizedOperations(context, ResourceType.Group, groupId, GroupOperations);
        }
        return response;
    }
}

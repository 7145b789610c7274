// DeleteGroups (key 42), versions 0-2.
// Deletes empty groups with their committed offsets (tombstones in __consumer_offsets); GROUP_ID_NOT_FOUND for an
// unknown group, NON_EMPTY_GROUP while it has members. Authorization: DELETE on the group.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DeleteGroupsHandler(GroupCoordinator groups) : ApiHandler<DeleteGroupsRequest, DeleteGroupsResponse>
{
    public override ApiKey ApiKey => ApiKey.DeleteGroups;
    public override VersionRange Versions => new(0, 2);

    protected override async ValueTask<DeleteGroupsResponse?> HandleAsync(RequestContext context, DeleteGroupsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteGroupsResponse();
        foreach (string groupId in request.GroupsNames)
        {
            ErrorCode error;
            if (!context.Authorize(AclOperation.Delete, ResourceType.Group, groupId)) error = ErrorCode.GroupAuthorizationFailed;
            else
            {
                var (shard, shardError) = await groups.ShardForAsync(groupId, cancellationToken).ConfigureAwait(false);
                error = shard is null ? shardError : await shard.DeleteGroupAsync(groupId).ConfigureAwait(false);
            }
            response.Results.Add(new() { GroupId = groupId, ErrorCode = (short)error });
        }
        return response;
    }
}

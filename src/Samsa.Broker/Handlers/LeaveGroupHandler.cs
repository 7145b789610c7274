// LeaveGroup (key 13), versions 0-5.
// v0-2: one member id, its error is the response error. v3+ (KIP-345): a batch of members, each by member id
// and/or group.instance.id, answered per member (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID). The group rebalances.
// Authorization: READ on the group.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class LeaveGroupHandler(GroupCoordinator groups) : ApiHandler<LeaveGroupRequest, LeaveGroupResponse>
{
    public override ApiKey ApiKey => ApiKey.LeaveGroup;
    public override VersionRange Versions => new(0, 5);

    protected override async ValueTask<LeaveGroupResponse?> HandleAsync(RequestContext context, LeaveGroupRequest request, CancellationToken cancellationToken)
    {
        if (!context.Authorize(AclOperation.Read, ResourceType.Group, request.GroupId))
            return new LeaveGroupResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        var (shard, error) = await groups.ShardForAsync(request.GroupId, cancellationToken).ConfigureAwait(false);
        if (shard is null) return new LeaveGroupResponse { ErrorCode = (short)error };

        bool batched = context.ApiVersion >= 3;
        var members = batched
            ? request.Members.Select(m => (m.MemberId, m.GroupInstanceId)).ToList()
            : [(request.MemberId, (string?)null)];
        var (top, results) = shard.Classic.Leave(request.GroupId, members);
        if (!batched)
            return new LeaveGroupResponse { ErrorCode = (short)(top != ErrorCode.None ? top : results.FirstOrDefault()) };
        var response = new LeaveGroupResponse { ErrorCode = (short)top };
        for (int i = 0; i < results.Count; i++)
            response.Members.Add(new() { MemberId = members[i].MemberId, GroupInstanceId = members[i].Item2, ErrorCode = (short)results[i] });
        return response;
    }
}

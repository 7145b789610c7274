// Heartbeat (key 12), versions 0-4.
// Keeps a classic member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin, ILLEGAL_GENERATION /
// UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID (v3+) as Kafka. Authorization: READ on the group.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class HeartbeatHandler(GroupCoordinator groups) : ApiHandler<HeartbeatRequest, HeartbeatResponse>
{
    public override ApiKey ApiKey => ApiKey.Heartbeat;
    public override VersionRange Versions => new(0, 4);

    protected override async ValueTask<HeartbeatResponse?> HandleAsync(RequestContext context, HeartbeatRequest request, CancellationToken cancellationToken)
    {
        if (!context.Authorize(AclOperation.Read, ResourceType.Group, request.GroupId))
            return new HeartbeatResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        var (shard, error) = await groups.ShardForAsync(request.GroupId, cancellationToken).ConfigureAwait(false);
        if (shard is null) return new HeartbeatResponse { ErrorCode = (short)error };
        var result = shard.Classic.Heartbeat(request.GroupId, request.GenerationId, request.MemberId,
            context.ApiVersion >= 3 ? request.GroupInstanceId : null);
        return new HeartbeatResponse { ErrorCode = (short)result };
    }
}

// SyncGroup (key 14), versions 0-5.
// The leader's assignments are persisted with the group metadata record before any member gets its part;
// followers wait for it. v3+ static membership (FENCED_INSTANCE_ID); v5 checks protocol type and name against the
// group (INCONSISTENT_GROUP_PROTOCOL). Authorization: READ on the group.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class SyncGroupHandler(GroupCoordinator groups) : ApiHandler<SyncGroupRequest, SyncGroupResponse>
{
    public override ApiKey ApiKey => ApiKey.SyncGroup;
    public override VersionRange Versions => new(0, 5);

    protected override async ValueTask<SyncGroupResponse?> HandleAsync(RequestContext context, SyncGroupRequest request, CancellationToken cancellationToken)
    {
        if (!context.Authorize(AclOperation.Read, ResourceType.Group, request.GroupId))
            return new SyncGroupResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        if (request.GroupId.Length == 0) return new SyncGroupResponse { ErrorCode = (short)ErrorCode.InvalidGroupId };
        var (shard, error) = await groups.ShardForAsync(request.GroupId, cancellationToken).ConfigureAwait(false);
        if (shard is null) return new SyncGroupResponse { ErrorCode = (short)error };

        var assignments = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var a in request.Assignments) assignments[a.MemberId] = a.Assignment;
        bool v5 = context.ApiVersion >= 5;
        var result = await shard.Classic.SyncAsync(request.GroupId, request.GenerationId, request.MemberId,
            context.ApiVersion >= 3 ? request.GroupInstanceId : null, v5 ? request.ProtocolType : null, v5 ? request.ProtocolName : null,
            assignments).WaitAsync(cancellationToken).ConfigureAwait(false);
        return new SyncGroupResponse
        {
            ErrorCode = (short)result.Error,
            Assignment = result.Assignment,
            ProtocolType = v5 && result.Error == ErrorCode.None ? result.ProtocolType : null,
            ProtocolName = v5 && result.Error == ErrorCode.None ? result.ProtocolName : null,
        };
    }
}

// JoinGroup (key 11), versions 0-9.
// Classic rebalance protocol as Kafka's GroupCoordinator: v4+ requires a known member id (KIP-394: the first join
// without one gets MEMBER_ID_REQUIRED and a generated id); v5+ static membership (group.instance.id, KIP-345);
// v9 skip_assignment for a static leader rejoining a Stable group (KIP-814). v0 has no rebalance timeout: the
// session timeout is used. The response waits for the join phase to complete (bounded by the rebalance timeout).
// Authorization: READ on the group.
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class JoinGroupHandler(GroupCoordinator groups) : ApiHandler<JoinGroupRequest, JoinGroupResponse>
{
    public override ApiKey ApiKey => ApiKey.JoinGroup;
    public override VersionRange Versions => new(0, 9);

    protected override async ValueTask<JoinGroupResponse?> HandleAsync(RequestContext context, JoinGroupRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        if (!context.Authorize(AclOperation.Read, ResourceType.Group, request.GroupId))
            return Error(version, ErrorCode.GroupAuthorizationFailed, request.MemberId);
        if (request.GroupId.Length == 0) return Error(version, ErrorCode.InvalidGroupId, request.MemberId);
        var (shard, error) = await groups.ShardForAsync(request.GroupId, cancellationToken).ConfigureAwait(false);
        if (shard is null) return Error(version, error, request.MemberId);

        var command = new JoinGroupCommand(
            request.GroupId, request.MemberId, version >= 5 ? request.GroupInstanceId : null, request.ProtocolType,
            request.Protocols.Select(p => new ProtocolMetadata(p.Name, p.Metadata)).ToList(),
            request.SessionTimeoutMs, version == 0 ? request.SessionTimeoutMs : request.RebalanceTimeoutMs,
            context.Header.ClientId ?? "", "/" + context.Session.Host,
            RequireKnownMemberId: version >= 4, SupportsSkipAssignment: version >= 9);
        var result = await shard.Classic.JoinAsync(command).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (result.Error != ErrorCode.None) return Error(version, result.Error, result.MemberId);
        return new JoinGroupResponse
        {
            GenerationId = result.GenerationId,
            ProtocolType = result.ProtocolType,
            ProtocolName = result.ProtocolName,
            Leader = result.LeaderId,
            SkipAssignment = version >= 9 && result.SkipAssignment,
            MemberId = result.MemberId,
            Members = (result.Members ?? []).Select(m => new JoinGroupResponse.JoinGroupResponseMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                Metadata = m.Metadata,
            }).ToList(),
        };
    }

    private static JoinGroupResponse Error(short version, ErrorCode error, string memberId) => new()
    {
        ErrorCode = (short)error,
        GenerationId = -1,
        ProtocolType = null,
        ProtocolName = version >= 7 ? null : "",
        Leader = "",
        MemberId = memberId,
    };
}

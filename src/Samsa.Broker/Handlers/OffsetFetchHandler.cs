// OffsetFetch (key 9), versions 0-9.
// v0-7 one group (null topics = every committed offset, v2+), v8+ several groups (KIP-709). A partition without a
// committed offset answers offset -1, empty metadata and NONE. Committed leader epoch v5+. require_stable (v7+): a
// partition whose offset an open transaction holds (TxnOffsetCommit not yet committed or aborted) answers
// UNSTABLE_OFFSET_COMMIT so the consumer retries (KIP-447); without it the last committed offset is answered. v9 member
// id/epoch (KIP-848) are ignored for classic groups. Group-level errors: top-level error v2-7, per group v8+, per
// partition v0-1. Authorization: DESCRIBE on the group (as Kafka) and on each topic (unauthorized topics are
// left out of "all topics" answers and get TOPIC_AUTHORIZATION_FAILED when named).
using Samsa.Broker.Api;
using Samsa.Broker.Groups;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class OffsetFetchHandler(GroupCoordinator groups) : ApiHandler<OffsetFetchRequest, OffsetFetchResponse>
{
    public override ApiKey ApiKey => ApiKey.OffsetFetch;
    public override VersionRange Versions => new(0, 9);

    private sealed record PartitionResult(int Partition, long Offset, int LeaderEpoch, string? Metadata, ErrorCode Error);

    protected override async ValueTask<OffsetFetchResponse?> HandleAsync(RequestContext context, OffsetFetchRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        var response = new OffsetFetchResponse();
        if (version >= 8)
        {
            foreach (var g in request.Groups)
            {
                var topics = g.Topics?.Select(t => (t.Name, (IReadOnlyList<int>)t.PartitionIndexes)).ToList();
                var (error, results) = await FetchAsync(context, g.GroupId, topics, request.RequireStable, cancellationToken).ConfigureAwait(false);
                response.Groups.Add(new()
                {
                    GroupId = g.GroupId,
                    ErrorCode = (short)error,
                    Topics = results.Select(t => new OffsetFetchResponse.OffsetFetchResponseTopics
                    {
                        Name = t.Topic,
                        Partitions = t.Partitions.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartitions
                        {
                            PartitionIndex = p.Partition, CommittedOffset = p.Offset, CommittedLeaderEpoch = p.LeaderEpoch,
                            Metadata = p.Metadata, ErrorCode = (short)p.Error,
                        }).ToList(),
                    }).ToList(),
                });
            }
            return response;
        }

        var requested = version >= 2 && request.Topics is null ? null
            : (request.Topics ?? []).Select(t => (t.Name, (IReadOnlyList<int>)t.PartitionIndexes)).ToList();
        var (groupError, topicResults) = await FetchAsync(context, request.GroupId, requested, version >= 7 && request.RequireStable, cancellationToken).ConfigureAwait(false);
        if (version >= 2) response.ErrorCode = (short)groupError;
        else if (groupError != ErrorCode.None)
            topicResults = (requested ?? []).Select(t => (t.Name, t.Item2.Select(p => new PartitionResult(p, -1, -1, "", groupError)).ToList())).ToList();
        response.Topics = topicResults.Select(t => new OffsetFetchResponse.OffsetFetchResponseTopic
        {
            Name = t.Topic,
            Partitions = t.Partitions.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartition
            {
                PartitionIndex = p.Partition, CommittedOffset = p.Offset, CommittedLeaderEpoch = p.LeaderEpoch,
                Metadata = p.Metadata, ErrorCode = (short)p.Error,
            }).ToList(),
        }).ToList();
        return response;
    }

    private async Task<(ErrorCode Error, List<(string Topic, List<PartitionResult> Partitions)> Topics)> FetchAsync(
        RequestContext context, string groupId, List<(string Name, IReadOnlyList<int> Partitions)>? topics, bool requireStable, CancellationToken ct)
    {
        var (error, results) = await FetchCommittedAsync(context, groupId, topics, ct).ConfigureAwait(false);
        if (error != ErrorCode.None || !requireStable || results.Count == 0) return (error, results);
        var (shard, _) = await groups.ShardForAsync(groupId, ct).ConfigureAwait(false);
        if (shard is null) return (error, results);
        var unstable = shard.UnstablePartitions(groupId, results.SelectMany(t => t.Partitions.Select(p => (t.Topic, p.Partition))));
        if (unstable.Count == 0) return (error, results);
        return (error, results.Select(t => (t.Topic, t.Partitions.Select(p => unstable.Contains((t.Topic, p.Partition)) && p.Error == ErrorCode.None
            ? new PartitionResult(p.Partition, -1, -1, "", ErrorCode.UnstableOffsetCommit)
            : p).ToList())).ToList());
    }

    private async Task<(ErrorCode Error, List<(string Topic, List<PartitionResult> Partitions)> Topics)> FetchCommittedAsync(
        RequestContext context, string groupId, List<(string Name, IReadOnlyList<int> Partitions)>? topics, CancellationToken ct)
    {
        if (!context.Authorize(AclOperation.Describe, ResourceType.Group, groupId)) return (ErrorCode.GroupAuthorizationFailed, []);
        var (shard, error) = await groups.ShardForAsync(groupId, ct).ConfigureAwait(false);
        if (shard is null) return (error, []);

        if (topics is null)
        {
            var (e, all) = shard.FetchOffsets(groupId, null);
            if (e != ErrorCode.None) return (e, []);
            var visible = all.Where(o => context.Authorize(AclOperation.Describe, ResourceType.Topic, o.Topic))
                .GroupBy(o => o.Topic)
                .Select(g => (g.Key, g.Select(o => Result(o.Partition, o.Offset)).ToList())).ToList();
            return (ErrorCode.None, visible);
        }

        var authorized = topics.Where(t => context.Authorize(AclOperation.Describe, ResourceType.Topic, t.Name)).Select(t => t.Name).ToHashSet();
        var wanted = topics.Where(t => authorized.Contains(t.Name)).SelectMany(t => t.Partitions.Select(p => (t.Name, p))).ToList();
        var (fetchError, found) = shard.FetchOffsets(groupId, wanted);
        if (fetchError != ErrorCode.None) return (fetchError, []);
        var byKey = found.ToDictionary(o => (o.Topic, o.Partition), o => o.Offset);
        var results = topics.Select(t => (t.Name, t.Partitions.Select(p => authorized.Contains(t.Name)
            ? Result(p, byKey.GetValueOrDefault((t.Name, p)))
            : new PartitionResult(p, -1, -1, "", ErrorCode.TopicAuthorizationFailed)).ToList())).ToList();
        return (ErrorCode.None, results);
    }

    private static PartitionResult Result(int partition, CommittedOffset? offset) => offset is null
        ? new PartitionResult(partition, -1, -1, "", ErrorCode.None)
        : new PartitionResult(partition, offset.Offset, offset.LeaderEpoch, offset.Metadata, ErrorCode.None);
}

using Samsa.Broker.Api;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using PartitionData = Samsa.Protocol.Messages.FetchResponse.PartitionData;

namespace Samsa.Broker.Handlers;

// Follower fetches (replica id ≥ 0): the leader records each follower's fetch offset — its durable log end — which moves
// the high watermark and the ISR (ReplicaManager), then returns what follows it up to the log end (not the high
// watermark), long-polling up to max_wait_ms for new appends. A follower whose last fetched epoch ends earlier on the
// leader (v12+, KIP-595 style) gets the diverging epoch and no records, and truncates. No fetch sessions for followers
// (Kafka uses them; a full request per round is cheaper to reason about and costs bytes only with many partitions).
// Authorization: CLUSTER_ACTION on the cluster.
public sealed partial class FetchHandler
{
    private sealed record ReplicaTarget(string Topic, Guid TopicId, FetchRequest.FetchPartition Request, Partition? Partition, PartitionData Data);

    private async ValueTask<FetchResponse> HandleReplicaFetchAsync(RequestContext context, FetchRequest request, int replicaId, CancellationToken ct)
    {
        if (!context.Authorize(AclOperation.ClusterAction, ResourceType.Cluster, "kafka-cluster"))
            return new FetchResponse { ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed };
        short version = context.ApiVersion;
        var image = metadata.Image;
        var unknownTopicIds = new List<(Guid Id, int Partition)>();
        var targets = new List<ReplicaTarget>();
        foreach (var (topic, topicId, p) in Requested(request, version, image, unknownTopicIds))
        {
            var data = new PartitionData
            {
                PartitionIndex = p.Partition, HighWatermark = -1, LastStableOffset = -1, LogStartOffset = -1, Records = ReadOnlyMemory<byte>.Empty,
            };
            var partition = replicas.Get(topic, p.Partition);
            if (partition is not null && topicId != Guid.Empty && partition.TopicId != topicId) partition = null;
            var error = ValidateReplicaFetch(partition, p, replicaId, version, data);
            if (error != ErrorCode.None || data.DivergingEpoch.EndOffset >= 0)
            {
                data.ErrorCode = (short)error;
                partition = null; // nothing to read: an error, or the follower must truncate first
            }
            targets.Add(new ReplicaTarget(topic, topicId, p, partition, data));
        }

        int maxBytes = Math.Min(request.MaxBytes <= 0 ? fetchMaxBytes : request.MaxBytes, fetchMaxBytes);
        long deadline = Environment.TickCount64 + Math.Clamp(request.MaxWaitMs, 0, MaxWaitCapMs);
        var buffers = new List<IDisposable>();
        while (true)
        {
            var waitOn = new List<Task>();
            long bytes = 0;
            int remaining = maxBytes;
            foreach (var target in targets)
            {
                if (target.Partition is not { } partition) continue;
                var arrived = partition.Appended; // before the read, so an append in between still wakes us
                int limit = Math.Min(target.Request.PartitionMaxBytes, remaining);
                try
                {
                    var read = partition.Log.ReadPooled(target.Request.FetchOffset, limit, long.MaxValue, minOneBatch: bytes == 0, out var buffer);
                    if (buffer is not null)
                    {
                        context.RegisterForDispose(buffer);
                        buffers.Add(buffer);
                    }
                    target.Data.LogStartOffset = read.LogStartOffset;
                    if (read.Error == Samsa.Storage.ReadError.OffsetOutOfRange)
                    {
                        target.Data.ErrorCode = (short)ErrorCode.OffsetOutOfRange;
                        continue;
                    }
                    target.Data.Records = read.Records;
                    bytes += read.Records.Length;
                    remaining = Math.Max(0, remaining - read.Records.Length);
                    if (read.Records.Length == 0) waitOn.Add(arrived);
                }
                catch (ObjectDisposedException)
                {
                    target.Data.ErrorCode = (short)ErrorCode.NotLeaderOrFollower; // deleted or closing meanwhile
                }
                catch (IOException)
                {
                    target.Data.ErrorCode = (short)ErrorCode.KafkaStorageError;
                }
            }
            long wait = deadline - Environment.TickCount64;
            if (bytes >= Math.Max(1, request.MinBytes) || wait <= 0 || waitOn.Count == 0 || ct.IsCancellationRequested) break;
            foreach (var buffer in buffers) buffer.Dispose();
            buffers.Clear();
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
            waitOn.Add(Task.Delay(TimeSpan.FromMilliseconds(wait), timer.Token));
            await Task.WhenAny(waitOn).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
        }

        var response = new FetchResponse();
        foreach (var (id, partition) in unknownTopicIds)
            AddPartition(response, version, "", id, new PartitionData { PartitionIndex = partition, ErrorCode = (short)ErrorCode.UnknownTopicId, HighWatermark = -1, Records = ReadOnlyMemory<byte>.Empty });
        foreach (var target in targets)
        {
            if (target.Partition is { } partition)
            {
                // The latest high watermark (it may have moved during the wait): the follower's own only lags it.
                target.Data.HighWatermark = partition.HighWatermark;
                target.Data.LastStableOffset = partition.HighWatermark;
                if (version >= 12) target.Data.CurrentLeader = new FetchResponse.LeaderIdAndEpoch { LeaderId = partition.LeaderId, LeaderEpoch = partition.LeaderEpoch };
            }
            AddPartition(response, version, target.Topic, target.TopicId, target.Data);
        }
        return response;
    }

    /// <summary>Checks one partition of a follower fetch and records the follower's progress; fills the diverging epoch when it applies.</summary>
    private ErrorCode ValidateReplicaFetch(Partition? partition, FetchRequest.FetchPartition p, int replicaId, short version, PartitionData data)
    {
        if (partition is null) return version >= 13 ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition;
        if (p.CurrentLeaderEpoch >= 0 && p.CurrentLeaderEpoch != partition.LeaderEpoch)
            return p.CurrentLeaderEpoch < partition.LeaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.UnknownLeaderEpoch;
        if (!partition.IsLeader || !partition.Replicas.Contains(replicaId) || replicaId == partition.LocalBrokerId)
            return ErrorCode.NotLeaderOrFollower;
        var log = partition.Log;
        data.HighWatermark = partition.HighWatermark;
        data.LogStartOffset = log.LogStartOffset;
        if (version >= 12 && p.LastFetchedEpoch >= 0)
        {
            var (epoch, endOffset) = log.EndOffsetForEpoch(p.LastFetchedEpoch);
            if (endOffset >= 0 && (endOffset < p.FetchOffset || epoch < p.LastFetchedEpoch))
            {
                data.DivergingEpoch = new FetchResponse.EpochEndOffset { Epoch = epoch, EndOffset = endOffset };
                return ErrorCode.None;
            }
        }
        if (p.FetchOffset < log.LogStartOffset || p.FetchOffset > log.LogEndOffset) return ErrorCode.OffsetOutOfRange;
        replicas.RecordFollowerFetch(partition, replicaId, p.FetchOffset);
        return ErrorCode.None;
    }
}

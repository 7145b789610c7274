// Fetch (key 1), versions 4-16.
// Consumers read up to the high watermark; read_committed (isolation_level 1) up to the last stable offset, with the
// aborted transactions overlapping the returned batches (from the .txnindex) so the client skips their records;
// read_uncommitted answers aborted_transactions null, as Kafka.
// Long poll: when fewer than min_bytes are available the request waits up to max_wait_ms for any fetched partition's
// high watermark to move. Limits: max_bytes for the response and partition_max_bytes per partition, except that the
// first partition with data returns at least one whole batch (KIP-74) so a consumer never stalls on a large batch.
// Fetch sessions (KIP-227, v7+): full and incremental fetches; incremental responses carry only partitions with
// records or with a changed high watermark / log start offset / error. Topic ids from v13.
// CurrentLeaderEpoch (v9+) is checked: older → FENCED_LEADER_EPOCH, newer → UNKNOWN_LEADER_EPOCH.
// Only the leader serves consumers; a follower answers NOT_LEADER_OR_FOLLOWER (no fetch-from-follower, KIP-392).
// Follower fetches (replica id ≥ 0, v15+ in ReplicaState) are served by FetchHandler.Replica.cs.
// Authorization: READ on the topic.
// Quotas: consumer_byte_rate bounds max_bytes to the quota window; a fetch that would exceed the quota is answered
// without data, with throttle_time_ms, and the connection is muted for that time (KIP-219), as Kafka does.
using Samsa.Broker.Api;
using Samsa.Broker.Fetching;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Storage;
using PartitionData = Samsa.Protocol.Messages.FetchResponse.PartitionData;

namespace Samsa.Broker.Handlers;

public sealed partial class FetchHandler(
    ReplicaManager replicas, IMetadataLog metadata, FetchSessionCache sessions, BrokerMetrics metrics, int fetchMaxBytes, Quotas.ClientQuotas? quotas = null)
    : ApiHandler<FetchRequest, FetchResponse>
{
    private const int MaxWaitCapMs = 30_000;

    public override ApiKey ApiKey => ApiKey.Fetch;
    public override VersionRange Versions => new(4, 16);

    private sealed record Target(string Topic, Guid TopicId, int Partition, long FetchOffset, int MaxBytes, int CurrentLeaderEpoch, SessionPartition? Cached);

    protected override async ValueTask<FetchResponse?> HandleAsync(RequestContext context, FetchRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        int replicaId = version >= 15 ? request.ReplicaState.ReplicaId : request.ReplicaId;
        if (replicaId >= 0)
            return await HandleReplicaFetchAsync(context, request, replicaId, cancellationToken).ConfigureAwait(false);

        // Resolve the session and the partitions to read.
        FetchSession? session = null;
        bool incremental = false;
        List<Target> targets;
        var image = metadata.Image;
        if (version >= 7 && request.SessionId != 0 && request.SessionEpoch is 0 or -1)
        {
            // A full fetch naming an old session closes it (if it still exists) and opens a new one (epoch 0) or
            // fetches without one (epoch -1); as Kafka, an unknown id here is not an error.
            sessions.Remove(request.SessionId);
            session = request.SessionEpoch == 0 ? sessions.TryCreate() : null;
        }
        else if (version >= 7 && request.SessionId != 0)
        {
            session = sessions.Get(request.SessionId);
            if (session is null)
                return new FetchResponse { ErrorCode = (short)ErrorCode.FetchSessionIdNotFound };
            lock (session.Lock)
            {
                if (request.SessionEpoch != session.NextEpoch)
                    return new FetchResponse { ErrorCode = (short)ErrorCode.InvalidFetchSessionEpoch };
                incremental = true;
            }
        }
        else if (version >= 7 && request.SessionEpoch == 0)
        {
            session = sessions.TryCreate();
        }

        var unknownTopicIds = new List<(Guid Id, int Partition)>();
        if (incremental)
        {
            lock (session!.Lock)
            {
                foreach (var forgotten in request.ForgottenTopicsData)
                {
                    string? name = version >= 13 ? image.TopicsById.GetValueOrDefault(forgotten.TopicId)?.Name : forgotten.Topic;
                    foreach (int p in forgotten.Partitions)
                        session.Partitions.RemoveAll(sp => sp.Partition == p && (sp.Topic == name || (version >= 13 && sp.TopicId == forgotten.TopicId)));
                }
                foreach (var (topic, topicId, p) in Requested(request, version, image, unknownTopicIds))
                {
                    var cached = session.Find(topic, p.Partition);
                    if (cached is null)
                    {
                        cached = new SessionPartition(topic, topicId, p.Partition);
                        session.Partitions.Add(cached);
                    }
                    cached.FetchOffset = p.FetchOffset;
                    cached.MaxBytes = p.PartitionMaxBytes;
                    cached.CurrentLeaderEpoch = p.CurrentLeaderEpoch;
                }
                targets = session.Partitions.Select(sp => new Target(sp.Topic, sp.TopicId, sp.Partition, sp.FetchOffset, sp.MaxBytes, sp.CurrentLeaderEpoch, sp)).ToList();
                session.AdvanceEpoch();
                session.LastUsedMs = sessions.NowMs;
            }
        }
        else
        {
            targets = [];
            foreach (var (topic, topicId, p) in Requested(request, version, image, unknownTopicIds))
            {
                SessionPartition? cached = null;
                if (session is not null)
                {
                    cached = new SessionPartition(topic, topicId, p.Partition)
                    {
                        FetchOffset = p.FetchOffset, MaxBytes = p.PartitionMaxBytes, CurrentLeaderEpoch = p.CurrentLeaderEpoch,
                    };
                    session.Partitions.Add(cached);
                }
                targets.Add(new Target(topic, topicId, p.Partition, p.FetchOffset, p.PartitionMaxBytes, p.CurrentLeaderEpoch, cached));
            }
        }

        int maxBytes = Math.Min(request.MaxBytes <= 0 ? fetchMaxBytes : request.MaxBytes, fetchMaxBytes);
        if (quotas is not null) maxBytes = Math.Min(maxBytes, quotas.Fetch.MaxValueInQuotaWindow(context.Session.Principal, context.Header.ClientId));
        int maxWait = Math.Clamp(request.MaxWaitMs, 0, MaxWaitCapMs);
        long deadline = Environment.TickCount64 + maxWait;
        List<(Target Target, PartitionData Data)> results;
        var buffers = new List<IDisposable>();
        while (true)
        {
            buffers.Clear();
            results = ReadAll(context, targets, maxBytes, request.IsolationLevel == 1, buffers, out long bytes, out bool anyError, out var waitOn);
            long remaining = deadline - Environment.TickCount64;
            if (bytes >= Math.Max(1, request.MinBytes) || anyError || remaining <= 0 || waitOn.Count == 0 || cancellationToken.IsCancellationRequested)
                break;
            // These results are read again after the wait: their buffers go back to the pool now, not at the end.
            foreach (var buffer in buffers) buffer.Dispose();
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            waitOn.Add(Task.Delay(TimeSpan.FromMilliseconds(remaining), timer.Token));
            metrics.FetchPurgatory.Increment();
            try
            {
                await Task.WhenAny(waitOn).ConfigureAwait(false);
            }
            finally
            {
                metrics.FetchPurgatory.Decrement();
            }
            await timer.CancelAsync().ConfigureAwait(false); // release the timer as soon as data arrived
        }

        if (quotas is not null && quotas.ThrottleFetch(context, results.Sum(r => (long)(r.Data.Records?.Length ?? 0))) is > 0 and var throttle)
            return new FetchResponse { SessionId = session?.Id ?? 0, ThrottleTimeMs = throttle };
        var response = new FetchResponse { SessionId = session?.Id ?? 0 };
        List<SessionPartition>? served = null;
        foreach (var (id, partition) in unknownTopicIds)
            AddPartition(response, version, "", id, new PartitionData { PartitionIndex = partition, ErrorCode = (short)ErrorCode.UnknownTopicId, HighWatermark = -1, Records = ReadOnlyMemory<byte>.Empty });
        foreach (var (target, data) in results)
        {
            var cached = target.Cached;
            if (incremental && cached is not null)
            {
                bool changed = data.Records is { Length: > 0 } || data.ErrorCode != 0
                    || data.HighWatermark != cached.LastHighWatermark || data.LogStartOffset != cached.LastLogStartOffset
                    || data.LastStableOffset != cached.LastStableOffset;
                if (!changed) continue;
            }
            if (cached is not null)
            {
                cached.LastHighWatermark = data.HighWatermark;
                cached.LastLogStartOffset = data.LogStartOffset;
                cached.LastStableOffset = data.LastStableOffset;
            }
            if (data.Records is { Length: > 0 } r)
            {
                metrics.TopicBytesOut(target.Topic, r);
                if (cached is not null) (served ??= []).Add(cached);
            }
            AddPartition(response, version, target.Topic, target.TopicId, data);
        }
        if (session is not null && served is not null)
        {
            // As Kafka's incremental fetch context: partitions that just returned data go to the back of the session,
            // so when fetch.max.bytes fills up the others are read first next time instead of starving.
            lock (session.Lock)
            {
                foreach (var p in served)
                    if (session.Partitions.Remove(p)) session.Partitions.Add(p);
            }
        }
        return response;
    }

    private static IEnumerable<(string Topic, Guid TopicId, FetchRequest.FetchPartition Partition)> Requested(
        FetchRequest request, short version, MetadataImage image, List<(Guid, int)> unknownTopicIds)
    {
        foreach (var topic in request.Topics)
        {
            string name;
            Guid id;
            if (version >= 13)
            {
                var t = image.TopicsById.GetValueOrDefault(topic.TopicId);
                if (t is null)
                {
                    foreach (var p in topic.Partitions) unknownTopicIds.Add((topic.TopicId, p.Partition));
                    continue;
                }
                (name, id) = (t.Name, t.TopicId);
            }
            else
            {
                name = topic.Topic;
                id = image.Topic(name)?.TopicId ?? Guid.Empty;
            }
            foreach (var p in topic.Partitions) yield return (name, id, p);
        }
    }

    /// <summary>
    /// Reads every target into pooled buffers, each registered with <paramref name="context"/> (released after the response
    /// is written) and added to <paramref name="buffers"/> (so a read discarded by the long poll can release early).
    /// </summary>
    private List<(Target, PartitionData)> ReadAll(RequestContext context, List<Target> targets, int maxBytes, bool readCommitted, List<IDisposable> buffers,
        out long totalBytes, out bool anyError, out List<Task> waitOn)
    {
        var results = new List<(Target, PartitionData)>(targets.Count);
        waitOn = [];
        totalBytes = 0;
        anyError = false;
        int remaining = maxBytes;
        var authorized = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var target in targets)
        {
            // Records are empty, never null, also on errors: librdkafka rejects a null record set ("invalid MessageSetSize -1")
            // and backs off instead of handling the error, so a consumer below the log start never resets.
            var data = new PartitionData
            {
                PartitionIndex = target.Partition, HighWatermark = -1, LastStableOffset = -1, LogStartOffset = -1, Records = ReadOnlyMemory<byte>.Empty,
            };
            results.Add((target, data));
            if (!authorized.TryGetValue(target.Topic, out bool ok))
                authorized[target.Topic] = ok = context.Authorize(AclOperation.Read, ResourceType.Topic, target.Topic);
            if (!ok)
            {
                data.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                anyError = true;
                continue;
            }
            var partition = replicas.Get(target.Topic, target.Partition);
            if (partition is null || (target.TopicId != Guid.Empty && partition.TopicId != target.TopicId))
            {
                bool topicGone = target.TopicId != Guid.Empty && !metadata.Image.TopicsById.ContainsKey(target.TopicId);
                data.ErrorCode = (short)(context.ApiVersion >= 13 && topicGone ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition);
                anyError = true;
                continue;
            }
            if (target.CurrentLeaderEpoch >= 0 && target.CurrentLeaderEpoch != partition.LeaderEpoch)
            {
                data.ErrorCode = (short)(target.CurrentLeaderEpoch < partition.LeaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.UnknownLeaderEpoch);
                anyError = true;
                continue;
            }
            if (!partition.IsLeader)
            {
                data.ErrorCode = (short)ErrorCode.NotLeaderOrFollower;
                anyError = true;
                continue;
            }
            var arrived = partition.DataArrived; // taken before reading the HW so an advance in between still wakes us
            long hw = partition.HighWatermark;
            long lso = Math.Min(partition.Log.LastStableOffset, hw);
            int limit = Math.Min(target.MaxBytes, remaining);
            ReadResult read;
            try
            {
                read = partition.Log.ReadPooled(target.FetchOffset, limit, readCommitted ? lso : hw, minOneBatch: totalBytes == 0, out var buffer);
                if (buffer is not null)
                {
                    context.RegisterForDispose(buffer);
                    buffers.Add(buffer);
                }
            }
            catch (ObjectDisposedException)
            {
                data.ErrorCode = (short)(context.ApiVersion >= 13 ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition);
                anyError = true;
                continue;
            }
            catch (IOException)
            {
                data.ErrorCode = (short)ErrorCode.KafkaStorageError;
                anyError = true;
                continue;
            }
            data.HighWatermark = hw;
            data.LastStableOffset = lso;
            data.AbortedTransactions = readCommitted ? AbortedIn(partition, target.FetchOffset, read.Records) : null;
            data.LogStartOffset = read.LogStartOffset;
            if (read.Error == ReadError.OffsetOutOfRange)
            {
                data.ErrorCode = (short)ErrorCode.OffsetOutOfRange;
                anyError = true;
                continue;
            }
            data.Records = read.Records;
            totalBytes += read.Records.Length;
            remaining = Math.Max(0, remaining - read.Records.Length);
            if (read.Records.Length == 0) waitOn.Add(arrived);
        }
        return results;
    }

    /// <summary>Aborted transactions overlapping the fetched batches (none when nothing was read).</summary>
    private static List<FetchResponse.AbortedTransaction> AbortedIn(Partition partition, long fetchOffset, ReadOnlyMemory<byte> records)
    {
        long upperBound = -1;
        var span = records.Span;
        for (int at = 0; at + Samsa.Protocol.Records.RecordBatchLayout.HeaderSize <= span.Length;)
        {
            var h = new Samsa.Protocol.Records.RecordBatchHeader(span[at..]);
            upperBound = h.LastOffset + 1;
            at += h.SizeInBytes;
        }
        if (upperBound < 0) return [];
        return partition.Log.CollectAbortedTransactions(fetchOffset, upperBound)
            .Select(t => new FetchResponse.AbortedTransaction { ProducerId = t.ProducerId, FirstOffset = t.FirstOffset }).ToList();
    }

    private static void AddPartition(FetchResponse response, short version, string topic, Guid topicId, PartitionData data)
    {
        var last = response.Responses.Count > 0 ? response.Responses[^1] : null;
        bool same = last is not null && (version >= 13 ? last.TopicId == topicId : last.Topic == topic);
        if (!same)
        {
            last = new FetchResponse.FetchableTopicResponse { Topic = topic, TopicId = topicId };
            response.Responses.Add(last);
        }
        last!.Partitions.Add(data);
    }
}

using Microsoft.Extensions.Logging;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Groups;

/// <summary>
/// The group coordinator state machine of one __consumer_offsets partition: its groups (a registry shared by every
/// group protocol), their committed offsets, and the timers driving sessions, rebalances and offset expiry.
/// Thread-safety: all state is guarded by <see cref="Lock"/>, held only for short, non-blocking sections; callers
/// await futures (join/sync responses, durability of appends) outside it. Persistence: every change is appended to
/// the partition under the lock (so the log order is the state order) and the state is rebuilt by replaying it.
/// </summary>
public sealed partial class GroupCoordinatorShard : IDisposable
{
    private readonly ICoordinatorLog _log;
    private readonly ILogger _logger;
    private readonly Dictionary<string, IGroup> _groups = new(StringComparer.Ordinal);
    private ITimer? _expiryTimer;
    private ShardStatus _status = ShardStatus.Loading;
    private long _commitSequence;

    public GroupCoordinatorShard(int partition, ICoordinatorLog log, GroupCoordinatorConfig config, TimeProvider time, ILogger logger)
    {
        PartitionIndex = partition;
        _log = log;
        Config = config;
        Time = time;
        _logger = logger;
        Classic = new ClassicGroupCoordinator(this);
        Consumer = new ConsumerGroupCoordinator(this);
    }

    private enum ShardStatus
    {
        Loading,
        Active,
        Closed,
    }

    public int PartitionIndex { get; }
    internal object Lock { get; } = new();
    internal GroupCoordinatorConfig Config { get; }
    internal TimeProvider Time { get; }
    internal ILogger Logger => _logger;
    internal OffsetStore Offsets { get; } = new();
    public ClassicGroupCoordinator Classic { get; }
    public ConsumerGroupCoordinator Consumer { get; }
    internal long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    public bool IsLoading
    {
        get
        {
            lock (Lock) return _status == ShardStatus.Loading;
        }
    }

    /// <summary>NONE when requests may be served; COORDINATOR_LOAD_IN_PROGRESS while replaying; NOT_COORDINATOR once closed.</summary>
    internal ErrorCode StatusError => _status switch
    {
        ShardStatus.Active => ErrorCode.None,
        ShardStatus.Loading => ErrorCode.CoordinatorLoadInProgress,
        _ => ErrorCode.NotCoordinator,
    };

    internal IGroup? Group(string groupId) => _groups.GetValueOrDefault(groupId);

    internal ClassicGroup? FindClassicGroup(string groupId) => _groups.GetValueOrDefault(groupId) as ClassicGroup;

    internal void AddGroup(IGroup group) => _groups[group.GroupId] = group;

    internal void RemoveGroup(string groupId) => _groups.Remove(groupId);

    /// <summary>Appends under the lock; the task completes when durable.</summary>
    internal Task Persist(IReadOnlyList<CoordinatorRecord> records)
    {
        try
        {
            return _log.Append(records, NowMs);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            return Task.FromException(e);
        }
    }

    internal Task PersistGroup(ClassicGroup group) => Persist([GroupRecordSerde.GroupMetadata(group.GroupId, group.ToRecord())]);

    /// <summary>Runs <paramref name="action"/> under the lock after <paramref name="delay"/> unless the shard closed.</summary>
    internal ITimer Schedule(TimeSpan delay, Action action) =>
        Time.CreateTimer(_ =>
        {
            lock (Lock)
            {
                if (_status != ShardStatus.Active) return;
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Group coordinator timer failed in __consumer_offsets-{Partition}", PartitionIndex);
                }
            }
        }, null, delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);

    /// <summary>
    /// Rebuilds groups and offsets by replaying the partition from its log start. Requests get
    /// COORDINATOR_LOAD_IN_PROGRESS until it completes. KIP-848 records rebuild consumer groups; records of unknown types are skipped.
    /// </summary>
    public void Load()
    {
        var groupRecords = new Dictionary<string, GroupMetadataValue?>(StringComparer.Ordinal);
        var offsets = new OffsetStore();
        var consumerGroups = new ConsumerGroupLoader();
        int count = 0;
        var pending = new TransactionalOffsetReplay();
        foreach (var record in _log.ReadAll())
        {
            count++;
            if (pending.TryApply(record, offsets)) continue;
            if (consumerGroups.TryApply(record)) continue;
            switch (GroupRecordSerde.DecodeKey(record.Key))
            {
                case OffsetCommitKey k when record.Value is null:
                    offsets.Remove(k.Group, k.Topic, k.Partition);
                    break;
                case OffsetCommitKey k:
                    offsets.Put(k.Group, k.Topic, k.Partition, GroupRecordSerde.DecodeOffsetValue(record.Value));
                    break;
                case GroupMetadataKey k:
                    groupRecords[k.Group] = record.Value is null ? null : GroupRecordSerde.DecodeGroupValue(record.Value);
                    break;
            }
        }

        lock (Lock)
        {
            if (_status != ShardStatus.Loading) return;
            long now = NowMs;
            foreach (var group in offsets.Groups.ToList())
                foreach (var (tp, o) in offsets.All(group))
                    Offsets.Put(group, tp.Topic, tp.Partition, o);
            pending.MoveOpenTo(Offsets);
            foreach (var (id, value) in groupRecords)
                if (value is not null) AddGroup(ClassicGroup.FromRecord(id, value, now));
            foreach (var group in consumerGroups.Groups) AddGroup(group);
            foreach (var group in Offsets.Groups)
                if (!_groups.ContainsKey(group)) AddGroup(new ClassicGroup(group, now));
            _status = ShardStatus.Active;
            foreach (var group in _groups.Values.OfType<ClassicGroup>())
                foreach (var member in group.Members)
                    Classic.TouchSession(group, member);
            foreach (var group in _groups.Values.OfType<ConsumerGroup>()) Consumer.OnLoaded(group);
            _expiryTimer = Time.CreateTimer(_ => ExpireOffsets(), null,
                TimeSpan.FromMilliseconds(Config.OffsetsRetentionCheckIntervalMs), TimeSpan.FromMilliseconds(Config.OffsetsRetentionCheckIntervalMs));
        }
        _logger.LogInformation("Loaded group coordinator for __consumer_offsets-{Partition}: {Groups} groups from {Records} records",
            PartitionIndex, _groups.Count, count);
    }

    /// <summary>Groups, optionally filtered by state and type names (case-insensitive), for ListGroups.</summary>
    public (ErrorCode Error, List<(string GroupId, string ProtocolType, string State, string Type)> Groups) ListGroups(IReadOnlyCollection<string> states, IReadOnlyCollection<string> types)
    {
        lock (Lock)
        {
            if (StatusError != ErrorCode.None) return (StatusError, []);
            var result = _groups.Values
                .Where(g => states.Count == 0 || states.Any(s => string.Equals(s, g.StateName, StringComparison.OrdinalIgnoreCase)))
                .Where(g => types.Count == 0 || types.Any(t => string.Equals(t, g.GroupType, StringComparison.OrdinalIgnoreCase)))
                .Select(g => (g.GroupId, g.ProtocolType, g.StateName, g.GroupType))
                .ToList();
            return (ErrorCode.None, result);
        }
    }

    /// <summary>A snapshot for DescribeGroups; null when the group does not exist.</summary>
    public (ErrorCode Error, GroupDescription? Group) Describe(string groupId)
    {
        lock (Lock)
        {
            if (StatusError != ErrorCode.None) return (StatusError, null);
            var group = Group(groupId);
            return (ErrorCode.None, group is null ? null : GroupDescription.Of(group));
        }
    }

    /// <summary>Deletes empty groups and their offsets (DeleteGroups): tombstones for every offset and the group.</summary>
    public async Task<ErrorCode> DeleteGroupAsync(string groupId)
    {
        Task durable;
        lock (Lock)
        {
            if (StatusError != ErrorCode.None) return StatusError;
            var group = Group(groupId);
            if (group is null && !Offsets.HasOffsets(groupId)) return ErrorCode.GroupIdNotFound;
            if (group is ClassicGroup { State: ClassicGroupState.Dead }) return ErrorCode.GroupIdNotFound;
            if (group is not null && !group.IsEmpty) return ErrorCode.NonEmptyGroup;
            var records = Offsets.RemoveGroup(groupId, ++_commitSequence)
                .Select(tp => GroupRecordSerde.OffsetCommit(groupId, tp.Topic, tp.Partition, null)).ToList();
            records.Add(GroupRecordSerde.GroupMetadata(groupId, null));
            if (group is ConsumerGroup) records.AddRange(ConsumerGroupRecordSerde.GroupTombstones(groupId));
            if (group is ClassicGroup classic) Classic.MarkDead(classic);
            RemoveGroup(groupId);
            durable = Persist(records);
        }
        await durable.ConfigureAwait(false);
        return ErrorCode.None;
    }

    /// <summary>Stops serving (partition moved or node stopping): pending joins and syncs get NOT_COORDINATOR.</summary>
    public void Close()
    {
        lock (Lock)
        {
            if (_status == ShardStatus.Closed) return;
            _status = ShardStatus.Closed;
            _expiryTimer?.Dispose();
            foreach (var group in _groups.Values.OfType<ClassicGroup>()) Classic.MarkDead(group, ErrorCode.NotCoordinator);
            foreach (var group in _groups.Values.OfType<ConsumerGroup>()) ConsumerGroupCoordinator.Close(group);
            _groups.Clear();
        }
    }

    public void Dispose() => Close();
}

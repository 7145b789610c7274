using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Groups;
using Samsa.Protocol;
using Xunit;

namespace Samsa.Broker.Tests.Groups;

public sealed class ClassicGroupTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly ManualTimeProvider _time = new();
    private readonly InMemoryCoordinatorLog _log = new();
    private readonly GroupCoordinatorShard _shard;

    public ClassicGroupTests()
    {
        _shard = NewShard(_log);
        _shard.Load();
    }

    private GroupCoordinatorShard NewShard(InMemoryCoordinatorLog log) =>
        new(0, log, new GroupCoordinatorConfig(MinSessionTimeoutMs: 1000, OffsetsRetentionMs: 60_000, OffsetsRetentionCheckIntervalMs: 10_000),
            _time, NullLogger.Instance);

    private static JoinGroupCommand Join(string memberId = "", string? instance = null, string protocol = "range", byte[]? metadata = null,
        int session = 10_000, int rebalance = 30_000, bool requireKnown = true) =>
        new("g", memberId, instance, "consumer", [new ProtocolMetadata(protocol, metadata ?? [1, 2, 3])], session, rebalance,
            "client", "/127.0.0.1", requireKnown, SupportsSkipAssignment: false);

    private async Task<JoinGroupResult> JoinNewAsync(string? instance = null)
    {
        if (instance is not null) return await _shard.Classic.JoinAsync(Join(instance: instance)).WaitAsync(Wait);
        var first = await _shard.Classic.JoinAsync(Join()).WaitAsync(Wait);
        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        return await _shard.Classic.JoinAsync(Join(first.MemberId)).WaitAsync(Wait);
    }

    private async Task<SyncGroupResult> SyncAsync(JoinGroupResult join, Dictionary<string, byte[]>? assignments = null, string? instance = null) =>
        await _shard.Classic.SyncAsync("g", join.GenerationId, join.MemberId, instance, null, null, assignments ?? []).WaitAsync(Wait);

    [Fact]
    public async Task First_join_without_member_id_gets_member_id_required_then_forms_generation_one()
    {
        var first = await _shard.Classic.JoinAsync(Join()).WaitAsync(Wait);
        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        Assert.StartsWith("client-", first.MemberId);

        var joined = await _shard.Classic.JoinAsync(Join(first.MemberId)).WaitAsync(Wait);
        Assert.Equal(ErrorCode.None, joined.Error);
        Assert.Equal(1, joined.GenerationId);
        Assert.Equal("range", joined.ProtocolName);
        Assert.Equal(joined.MemberId, joined.LeaderId);
        Assert.Single(joined.Members!);

        var sync = await SyncAsync(joined, new() { [joined.MemberId] = [9] });
        Assert.Equal(ErrorCode.None, sync.Error);
        Assert.Equal(new byte[] { 9 }, sync.Assignment);
        Assert.Equal(ErrorCode.None, _shard.Classic.Heartbeat("g", 1, joined.MemberId, null));
        Assert.Equal("Stable", _shard.Describe("g").Group!.State);
    }

    [Fact]
    public async Task Old_clients_join_without_member_id_required()
    {
        var joined = await _shard.Classic.JoinAsync(Join(requireKnown: false)).WaitAsync(Wait);
        Assert.Equal(ErrorCode.None, joined.Error);
        Assert.Equal(1, joined.GenerationId);
    }

    [Fact]
    public async Task Second_member_triggers_rebalance_and_followers_get_leader_assignment()
    {
        var a = await JoinNewAsync();
        await SyncAsync(a, new() { [a.MemberId] = [1] });

        var bFirst = await _shard.Classic.JoinAsync(Join()).WaitAsync(Wait);
        var bJoin = _shard.Classic.JoinAsync(Join(bFirst.MemberId));
        Assert.False(bJoin.IsCompleted);
        Assert.Equal(ErrorCode.RebalanceInProgress, _shard.Classic.Heartbeat("g", 1, a.MemberId, null));

        var aJoin = await _shard.Classic.JoinAsync(Join(a.MemberId)).WaitAsync(Wait);
        var b = await bJoin.WaitAsync(Wait);
        Assert.Equal(2, aJoin.GenerationId);
        Assert.Equal(2, b.GenerationId);
        Assert.Equal(aJoin.LeaderId, b.LeaderId);
        var leader = aJoin.LeaderId == aJoin.MemberId ? aJoin : b;
        var follower = leader == aJoin ? b : aJoin;
        Assert.Equal(2, leader.Members!.Count);
        Assert.Empty(follower.Members!);

        var followerSync = SyncAsync(follower);
        Assert.False(followerSync.IsCompleted);
        Assert.Equal(ErrorCode.None, (await SyncAsync(leader, new() { [leader.MemberId] = [1], [follower.MemberId] = [2] })).Error);
        Assert.Equal(new byte[] { 2 }, (await followerSync).Assignment);
        Assert.Equal(ErrorCode.IllegalGeneration, _shard.Classic.Heartbeat("g", 1, a.MemberId, null));
    }

    [Fact]
    public async Task Session_expiry_removes_member_and_rebalances()
    {
        var a = await JoinNewAsync();
        await SyncAsync(a, new() { [a.MemberId] = [1] });
        var bFirst = await _shard.Classic.JoinAsync(Join()).WaitAsync(Wait);
        var bJoin = _shard.Classic.JoinAsync(Join(bFirst.MemberId));
        var aJoin = await _shard.Classic.JoinAsync(Join(a.MemberId)).WaitAsync(Wait);
        var b = await bJoin.WaitAsync(Wait);
        var leader = aJoin.LeaderId == aJoin.MemberId ? aJoin : b;
        var follower = leader == aJoin ? b : aJoin;
        var followerSync = SyncAsync(follower);
        await SyncAsync(leader, new() { [leader.MemberId] = [1], [follower.MemberId] = [2] });
        await followerSync;

        // Only the leader heartbeats; the follower's session (10 s) expires.
        for (int i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(3));
            Assert.NotEqual(ErrorCode.UnknownMemberId, _shard.Classic.Heartbeat("g", 2, leader.MemberId, null));
        }
        Assert.Equal(ErrorCode.RebalanceInProgress, _shard.Classic.Heartbeat("g", 2, leader.MemberId, null));
        Assert.Equal(ErrorCode.UnknownMemberId, _shard.Classic.Heartbeat("g", 2, follower.MemberId, null));
        var rejoin = await _shard.Classic.JoinAsync(Join(leader.MemberId)).WaitAsync(Wait);
        Assert.Equal(3, rejoin.GenerationId);
        Assert.Single(rejoin.Members!);
    }

    [Fact]
    public async Task Rebalance_timeout_removes_members_that_do_not_rejoin()
    {
        var a = await JoinNewAsync();
        await SyncAsync(a, new() { [a.MemberId] = [1] });
        var bFirst = await _shard.Classic.JoinAsync(Join()).WaitAsync(Wait);
        var bJoin = _shard.Classic.JoinAsync(Join(bFirst.MemberId));
        _time.Advance(TimeSpan.FromSeconds(31)); // a never rejoins within the 30 s rebalance timeout
        var b = await bJoin.WaitAsync(Wait);
        Assert.Equal(ErrorCode.None, b.Error);
        Assert.Equal(2, b.GenerationId);
        Assert.Equal(b.MemberId, b.LeaderId);
        Assert.Single(b.Members!);
    }

    [Fact]
    public async Task Leave_triggers_rebalance_and_unknown_members_are_reported()
    {
        var a = await JoinNewAsync();
        await SyncAsync(a);
        var (error, results) = _shard.Classic.Leave("g", [(a.MemberId, null), ("nobody", null)]);
        Assert.Equal(ErrorCode.None, error);
        Assert.Equal([ErrorCode.None, ErrorCode.UnknownMemberId], results);
        Assert.Equal("Empty", _shard.Describe("g").Group!.State);
        Assert.Equal(ErrorCode.UnknownMemberId, _shard.Classic.Heartbeat("g", 1, a.MemberId, null));
    }

    [Fact]
    public async Task Static_member_rejoining_keeps_assignment_without_rebalance_and_old_id_is_fenced()
    {
        var a = await JoinNewAsync("instance-a");
        Assert.Equal(ErrorCode.None, a.Error);
        Assert.StartsWith("instance-a-", a.MemberId);
        await SyncAsync(a, new() { [a.MemberId] = [7] }, "instance-a");

        var again = await _shard.Classic.JoinAsync(Join(instance: "instance-a")).WaitAsync(Wait);
        Assert.Equal(ErrorCode.None, again.Error);
        Assert.NotEqual(a.MemberId, again.MemberId);
        Assert.Equal(1, again.GenerationId);
        Assert.Equal("Stable", _shard.Describe("g").Group!.State);
        var sync = await SyncAsync(again, instance: "instance-a");
        Assert.Equal(new byte[] { 7 }, sync.Assignment);

        Assert.Equal(ErrorCode.FencedInstanceId, _shard.Classic.Heartbeat("g", 1, a.MemberId, "instance-a"));
        Assert.Equal(ErrorCode.FencedInstanceId, (await _shard.Classic.JoinAsync(Join(a.MemberId, "instance-a")).WaitAsync(Wait)).Error);
        Assert.Equal(ErrorCode.None, _shard.Classic.Heartbeat("g", 1, again.MemberId, "instance-a"));
    }

    [Fact]
    public async Task Error_codes_as_kafka()
    {
        Assert.Equal(ErrorCode.InvalidSessionTimeout, (await _shard.Classic.JoinAsync(Join(session: 10)).WaitAsync(Wait)).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await _shard.Classic.JoinAsync(Join("ghost")).WaitAsync(Wait)).Error);
        var a = await JoinNewAsync();
        await SyncAsync(a);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, (await _shard.Classic.JoinAsync(Join(protocol: "other")).WaitAsync(Wait)).Error);
        Assert.Equal(ErrorCode.IllegalGeneration, _shard.Classic.Heartbeat("g", 5, a.MemberId, null));
        Assert.Equal(ErrorCode.UnknownMemberId, _shard.Classic.Heartbeat("g", 1, "ghost", null));
        Assert.Equal(ErrorCode.UnknownMemberId, _shard.Classic.Heartbeat("nogroup", 1, "ghost", null));
        Assert.Equal(ErrorCode.IllegalGeneration, (await SyncAsync(a with { GenerationId = 9 })).Error);
        Assert.Equal(ErrorCode.NonEmptyGroup, await _shard.DeleteGroupAsync("g"));
        Assert.Equal(ErrorCode.GroupIdNotFound, await _shard.DeleteGroupAsync("nogroup"));
    }

    [Fact]
    public async Task Protocol_selection_picks_a_protocol_every_member_supports_by_votes()
    {
        var group = new ClassicGroup("g", 0);
        group.Add(new ClassicGroupMember("a", null, "c", "h", 1, 1, "consumer", [new("roundrobin", []), new("range", [])]));
        group.Add(new ClassicGroupMember("b", null, "c", "h", 1, 1, "consumer", [new("range", []), new("roundrobin", [])]));
        group.Add(new ClassicGroupMember("c", null, "c", "h", 1, 1, "consumer", [new("sticky", []), new("range", []), new("roundrobin", [])]));
        Assert.Equal("range", group.SelectProtocol());
        Assert.False(group.SupportsProtocols("consumer", [new("sticky", [])]));
        Assert.True(group.SupportsProtocols("consumer", [new("roundrobin", [])]));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task Offsets_commit_fetch_and_validation()
    {
        Assert.Equal(ErrorCode.IllegalGeneration, await _shard.CommitOffsetsAsync("g", 3, "m", null, -1, [new("t", 0, 5, -1, "")]));
        Assert.Equal(ErrorCode.None, await _shard.CommitOffsetsAsync("g", -1, "", null, -1, [new("t", 0, 5, 2, "meta")]));
        var (error, offsets) = _shard.FetchOffsets("g", [("t", 0), ("t", 1)]);
        Assert.Equal(ErrorCode.None, error);
        Assert.Equal(5, offsets[0].Offset!.Offset);
        Assert.Equal("meta", offsets[0].Offset!.Metadata);
        Assert.Equal(2, offsets[0].Offset!.LeaderEpoch);
        Assert.Null(offsets[1].Offset);

        // Once the group has members, a simple commit is rejected and members must be of the current generation.
        var a = await JoinNewAsync();
        Assert.Equal(ErrorCode.UnknownMemberId, await _shard.CommitOffsetsAsync("g", -1, "", null, -1, [new("t", 0, 6, -1, "")]));
        Assert.Equal(ErrorCode.RebalanceInProgress, await _shard.CommitOffsetsAsync("g", a.GenerationId, a.MemberId, null, -1, [new("t", 0, 6, -1, "")]));
        await SyncAsync(a);
        Assert.Equal(ErrorCode.IllegalGeneration, await _shard.CommitOffsetsAsync("g", 0, a.MemberId, null, -1, [new("t", 0, 6, -1, "")]));
        Assert.Equal(ErrorCode.None, await _shard.CommitOffsetsAsync("g", a.GenerationId, a.MemberId, null, -1, [new("t", 0, 6, -1, "")]));
        Assert.Equal(6, _shard.FetchOffsets("g", null).Offsets.Single().Offset!.Offset);
    }

    [Fact]
    public async Task Restart_replays_offsets_and_static_group_metadata()
    {
        var a = await JoinNewAsync("instance-a");
        await SyncAsync(a, new() { [a.MemberId] = [7] }, "instance-a");
        Assert.Equal(ErrorCode.None, await _shard.CommitOffsetsAsync("g", a.GenerationId, a.MemberId, "instance-a", -1, [new("t", 3, 42, 1, "x")]));
        _shard.Close();

        var reloaded = NewShard(_log);
        Assert.Equal(ErrorCode.CoordinatorLoadInProgress, reloaded.FetchOffsets("g", null).Error);
        reloaded.Load();
        Assert.Equal(42, reloaded.FetchOffsets("g", [("t", 3)]).Offsets.Single().Offset!.Offset);
        var described = reloaded.Describe("g").Group!;
        Assert.Equal("Stable", described.State);
        Assert.Equal(a.MemberId, described.Members.Single().MemberId);
        Assert.Equal(new byte[] { 7 }, described.Members.Single().Assignment);

        var rejoin = await reloaded.Classic.JoinAsync(Join(instance: "instance-a")).WaitAsync(Wait);
        Assert.Equal(ErrorCode.None, rejoin.Error);
        Assert.Equal(a.GenerationId, rejoin.GenerationId);
        var sync = await reloaded.Classic.SyncAsync("g", rejoin.GenerationId, rejoin.MemberId, "instance-a", null, null, new Dictionary<string, byte[]>()).WaitAsync(Wait);
        Assert.Equal(new byte[] { 7 }, sync.Assignment);
    }

    [Fact]
    public async Task Offsets_of_empty_groups_expire_after_retention_and_deleted_offsets_are_tombstoned()
    {
        Assert.Equal(ErrorCode.None, await _shard.CommitOffsetsAsync("g", -1, "", null, -1, [new("t", 0, 5, -1, ""), new("t", 1, 6, -1, "")]));
        var (top, results) = await _shard.DeleteOffsetsAsync("g", [("t", 1)]);
        Assert.Equal(ErrorCode.None, top);
        Assert.Equal([ErrorCode.None], results);
        Assert.Contains(_log.Records, r => r.Value is null);

        _time.Advance(TimeSpan.FromSeconds(50));
        Assert.Single(_shard.FetchOffsets("g", null).Offsets);
        _time.Advance(TimeSpan.FromSeconds(20)); // retention 60 s, checked every 10 s
        Assert.Empty(_shard.FetchOffsets("g", null).Offsets);
    }

    [Fact]
    public async Task Simple_consumer_offsets_expire_from_their_own_commit_time_not_the_first_commit()
    {
        // A simple consumer (commits without membership) keeps committing: its fresh offsets must survive even when the
        // first commit is older than the retention (review finding: the group's creation time was used).
        Assert.Equal(ErrorCode.None, await _shard.CommitOffsetsAsync("simple", -1, "", null, -1, [new("t", 0, 1, -1, "")]));
        for (int i = 2; i <= 8; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(20));
            Assert.Equal(ErrorCode.None, await _shard.CommitOffsetsAsync("simple", -1, "", null, -1, [new("t", 0, i, -1, "")]));
        }
        // 140 s after the first commit (retention 60 s): still there, with the latest value.
        Assert.Equal(8, _shard.FetchOffsets("simple", null).Offsets.Single().Offset!.Offset);
        _time.Advance(TimeSpan.FromSeconds(70));
        Assert.Empty(_shard.FetchOffsets("simple", null).Offsets);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("abc", 96354)]
    [InlineData("my-group", -1906497762)]
    [InlineData("test-group", 627841412)]
    public void Group_hash_matches_java_string_hash_code(string value, int expected) =>
        Assert.Equal(expected, CoordinatorPartitioner.JavaHashCode(value));

    [Fact]
    public void Group_partition_matches_kafka()
    {
        Assert.Equal(36, CoordinatorPartitioner.PartitionFor("my-group", 50));
        Assert.Equal(12, CoordinatorPartitioner.PartitionFor("test-group", 50));
        Assert.Equal(6, CoordinatorPartitioner.PartitionFor("console-consumer-12345", 50));
    }
}

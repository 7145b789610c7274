using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Groups;
using Samsa.Protocol;
using Xunit;

namespace Samsa.Broker.Tests.Groups;

/// <summary>The KIP-848 consumer group state machine driven directly, with a manual clock and an in-memory log.</summary>
public sealed class ConsumerGroupTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private static readonly Guid TopicA = Guid.NewGuid();
    private static readonly Guid TopicB = Guid.NewGuid();
    private readonly ManualTimeProvider _time = new();
    private readonly InMemoryCoordinatorLog _log = new();
    private readonly Catalog _catalog = new();
    private GroupCoordinatorShard _shard;

    public ConsumerGroupTests()
    {
        _catalog.Set(new ConsumerGroupTopic(TopicA, "a", 6));
        _catalog.Set(new ConsumerGroupTopic(TopicB, "b", 3));
        _shard = NewShard(_log);
        _shard.Load();
    }

    internal sealed class Catalog : ITopicCatalog
    {
        private readonly Dictionary<string, ConsumerGroupTopic> _topics = [];

        public void Set(ConsumerGroupTopic topic) => _topics[topic.Name] = topic;

        public ConsumerGroupTopic? Topic(string name) => _topics.GetValueOrDefault(name);

        public IEnumerable<ConsumerGroupTopic> Topics => _topics.Values;
    }

    private GroupCoordinatorShard NewShard(InMemoryCoordinatorLog log) =>
        new(0, log, new GroupCoordinatorConfig(ConsumerGroupHeartbeatIntervalMs: 1000, ConsumerGroupSessionTimeoutMs: 10_000), _time, NullLogger.Instance);

    /// <summary>A client model: remembers its epoch and what it owns, and revokes/assigns as told.</summary>
    private sealed class Client(ConsumerGroupTests test, string memberId, string? instanceId = null)
    {
        public string MemberId { get; private set; } = memberId;
        public int Epoch { get; set; }
        public HashSet<TopicIdPartition> Owned { get; } = [];

        public async Task<ConsumerGroupHeartbeatResult> JoinAsync(string[]? topics = null, string? assignor = null, string? regex = null)
        {
            var r = await test.HeartbeatAsync(new ConsumerGroupHeartbeatCommand("g", MemberId, 0, instanceId, null, 30_000,
                regex is null ? topics ?? ["a"] : null, regex, assignor, [], "client", "/127.0.0.1"));
            Apply(r);
            return r;
        }

        public async Task<ConsumerGroupHeartbeatResult> HeartbeatAsync(int? epoch = null)
        {
            var r = await test.HeartbeatAsync(new ConsumerGroupHeartbeatCommand("g", MemberId, epoch ?? Epoch, instanceId, null, -1,
                null, null, null, [.. Owned], "client", "/127.0.0.1"));
            Apply(r);
            return r;
        }

        public Task<ConsumerGroupHeartbeatResult> LeaveAsync(int epoch = -1) =>
            test.HeartbeatAsync(new ConsumerGroupHeartbeatCommand("g", MemberId, epoch, instanceId, null, -1, null, null, null, null, "client", "/127.0.0.1"));

        private void Apply(ConsumerGroupHeartbeatResult r)
        {
            if (r.Error != ErrorCode.None) return;
            MemberId = r.MemberId!;
            Epoch = r.MemberEpoch;
            if (r.Assignment is null) return;
            Owned.Clear();
            Owned.UnionWith(r.Assignment);
        }
    }

    private async Task<ConsumerGroupHeartbeatResult> HeartbeatAsync(ConsumerGroupHeartbeatCommand c) =>
        await _shard.Consumer.HeartbeatAsync(c, _catalog).WaitAsync(Wait);

    private ConsumerGroup Group => (ConsumerGroup)_shard.Group("g")!;

    /// <summary>Heartbeats every client until nothing changes; after each heartbeat no partition may have two owners.</summary>
    private async Task SettleAsync(params Client[] clients)
    {
        for (int round = 0; round < 20; round++)
        {
            var before = clients.Select(c => (c.Epoch, string.Join(",", c.Owned.Select(p => p.ToString()).Order()))).ToList();
            foreach (var c in clients)
            {
                Assert.Equal(ErrorCode.None, (await c.HeartbeatAsync()).Error);
                AssertNoDoubleOwnership(clients);
            }
            if (before.SequenceEqual(clients.Select(c => (c.Epoch, string.Join(",", c.Owned.Select(p => p.ToString()).Order()))))) return;
        }
        Assert.Fail("the group did not settle");
    }

    private static void AssertNoDoubleOwnership(IEnumerable<Client> clients)
    {
        var all = clients.SelectMany(c => c.Owned).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    [Fact]
    public async Task First_member_joins_with_epoch_zero_and_gets_everything_at_epoch_one()
    {
        var a = new Client(this, "m-a");
        var r = await a.JoinAsync();
        Assert.Equal(ErrorCode.None, r.Error);
        Assert.Equal(1, r.MemberEpoch);
        Assert.Equal(1000, r.HeartbeatIntervalMs);
        Assert.Equal(6, r.Assignment!.Count);
        Assert.Equal("Stable", Group.StateName);
        Assert.Null((await a.HeartbeatAsync()).Assignment); // unchanged assignment is not repeated
    }

    [Fact]
    public async Task Version_zero_join_gets_a_generated_member_id_and_version_one_requires_one()
    {
        var r = await HeartbeatAsync(new ConsumerGroupHeartbeatCommand("g", "", 0, null, null, 30_000, ["a"], null, null, [], "c", "/h", ApiVersion: 0));
        Assert.Equal(ErrorCode.None, r.Error);
        Assert.False(string.IsNullOrEmpty(r.MemberId));
        var v1 = await HeartbeatAsync(new ConsumerGroupHeartbeatCommand("g", "", 0, null, null, 30_000, ["a"], null, null, [], "c", "/h", ApiVersion: 1));
        Assert.Equal(ErrorCode.InvalidRequest, v1.Error);
    }

    [Fact]
    public async Task New_members_get_partitions_only_after_previous_owners_revoke_them()
    {
        var a = new Client(this, "m-a");
        await a.JoinAsync();
        var b = new Client(this, "m-b");
        var joined = await b.JoinAsync();
        Assert.Equal(2, Group.GroupEpoch);
        Assert.Empty(joined.Assignment!); // a still owns everything: b's partitions are unreleased
        Assert.Equal(ConsumerMemberState.UnreleasedPartitions, Group.Member("m-b")!.State);

        var revoke = await a.HeartbeatAsync();
        Assert.Equal(1, revoke.MemberEpoch); // a keeps its epoch until it has revoked
        Assert.Equal(3, revoke.Assignment!.Count);
        Assert.Equal(ConsumerMemberState.UnrevokedPartitions, Group.Member("m-a")!.State);

        await SettleAsync(a, b);
        Assert.Equal(3, a.Owned.Count);
        Assert.Equal(3, b.Owned.Count);
        Assert.Equal(2, a.Epoch);
        Assert.Equal(2, b.Epoch);
        Assert.Equal("Stable", Group.StateName);
    }

    [Fact]
    public async Task Three_members_on_six_partitions_never_share_a_partition()
    {
        var clients = new[] { new Client(this, "m-1"), new Client(this, "m-2"), new Client(this, "m-3") };
        foreach (var c in clients)
        {
            await c.JoinAsync();
            AssertNoDoubleOwnership(clients);
            await SettleAsync(clients.Where(x => x.Epoch > 0).ToArray());
        }
        await SettleAsync(clients);
        Assert.All(clients, c => Assert.Equal(2, c.Owned.Count));
    }

    [Fact]
    public async Task Leave_moves_partitions_to_the_others()
    {
        var a = new Client(this, "m-a");
        var b = new Client(this, "m-b");
        await a.JoinAsync();
        await b.JoinAsync();
        await SettleAsync(a, b);
        var left = await b.LeaveAsync();
        Assert.Equal(-1, left.MemberEpoch);
        Assert.Null(Group.Member("m-b"));
        await SettleAsync(a);
        Assert.Equal(6, a.Owned.Count);
        Assert.Equal(ErrorCode.UnknownMemberId, (await b.HeartbeatAsync()).Error);
    }

    [Fact]
    public async Task Session_expiry_removes_a_silent_member()
    {
        var a = new Client(this, "m-a");
        var b = new Client(this, "m-b");
        await a.JoinAsync();
        await b.JoinAsync();
        await SettleAsync(a, b);
        for (int i = 0; i < 4; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(3));
            await a.HeartbeatAsync();
        }
        Assert.Null(Group.Member("m-b"));
        await SettleAsync(a);
        Assert.Equal(6, a.Owned.Count);
    }

    [Fact]
    public async Task A_member_that_does_not_revoke_within_its_rebalance_timeout_is_fenced()
    {
        var a = new Client(this, "m-a");
        await a.JoinAsync();
        var b = new Client(this, "m-b");
        await b.JoinAsync();
        await a.HeartbeatAsync(); // told to revoke, but never does
        for (int i = 0; i < 12; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(3));
            await b.HeartbeatAsync(); // a's session is also kept alive by the test below
            if (Group.Member("m-a") is not null) await HeartbeatAsync(new ConsumerGroupHeartbeatCommand("g", "m-a", 1, null, null, -1, null, null, null, null, "c", "/h"));
        }
        Assert.Null(Group.Member("m-a"));
        await SettleAsync(b);
        Assert.Equal(6, b.Owned.Count);
    }

    [Fact]
    public async Task Wrong_epochs_are_fenced_and_the_previous_epoch_with_a_subset_is_accepted()
    {
        var a = new Client(this, "m-a");
        await a.JoinAsync();
        Assert.Equal(ErrorCode.FencedMemberEpoch, (await a.HeartbeatAsync(epoch: 5)).Error);
        var b = new Client(this, "m-b");
        await b.JoinAsync();
        await SettleAsync(a, b);
        Assert.Equal(2, a.Epoch);
        Assert.Equal(ErrorCode.None, (await HeartbeatAsync(new ConsumerGroupHeartbeatCommand("g", "m-a", 1, null, null, -1, null, null, null,
            [.. a.Owned], "c", "/h"))).Error);
        Assert.Equal(ErrorCode.FencedMemberEpoch, (await HeartbeatAsync(new ConsumerGroupHeartbeatCommand("g", "m-a", 1, null, null, -1, null, null, null,
            null, "c", "/h"))).Error);
        Assert.Equal(ErrorCode.UnknownMemberId, (await new Client(this, "nobody") { Epoch = 1 }.HeartbeatAsync()).Error);
    }

    [Fact]
    public async Task Unknown_assignor_and_invalid_regex_are_rejected_and_range_is_honoured()
    {
        Assert.Equal(ErrorCode.UnsupportedAssignor, (await new Client(this, "x").JoinAsync(assignor: "sticky")).Error);
        Assert.Equal(ErrorCode.InvalidRegularExpression, (await new Client(this, "x").JoinAsync(regex: "a(")).Error);
        var a = new Client(this, "m-a");
        var b = new Client(this, "m-b");
        await a.JoinAsync(["a", "b"], "range");
        await b.JoinAsync(["a", "b"], "range");
        await SettleAsync(a, b);
        Assert.Equal("range", _shard.Consumer.Describe("g").Group!.AssignorName);
        // Range: per topic, contiguous ranges in member id order.
        Assert.Equal([0, 1, 2], a.Owned.Where(p => p.TopicId == TopicA).Select(p => p.Partition).Order());
        Assert.Equal([0, 1], a.Owned.Where(p => p.TopicId == TopicB).Select(p => p.Partition).Order());
        Assert.Equal([2], b.Owned.Where(p => p.TopicId == TopicB).Select(p => p.Partition).Order());
    }

    [Fact]
    public async Task Regex_subscription_and_new_partitions_bump_the_group_epoch()
    {
        var a = new Client(this, "m-a");
        await a.JoinAsync(regex: "[ab]");
        Assert.Equal(9, a.Owned.Count);
        _catalog.Set(new ConsumerGroupTopic(TopicB, "b", 5));
        await SettleAsync(a);
        Assert.Equal(11, a.Owned.Count);
        Assert.Equal(2, Group.GroupEpoch);
    }

    [Fact]
    public async Task An_empty_regex_beside_topic_names_does_not_bump_the_epoch()
    {
        var c = new ConsumerGroupHeartbeatCommand("g", "m-a", 0, null, null, 30_000, ["a"], "", null, [], "c", "/h");
        var r = await HeartbeatAsync(c);
        Assert.Equal(1, r.MemberEpoch);
        r = await HeartbeatAsync(c with { MemberEpoch = 1, OwnedPartitions = [.. r.Assignment!] });
        Assert.Equal(ErrorCode.None, r.Error);
        Assert.Equal(1, Group.GroupEpoch);
    }

    [Fact]
    public async Task Static_member_leaving_with_minus_two_rejoins_with_its_partitions_without_a_new_epoch()
    {
        var a = new Client(this, "m-a", "i-a");
        var b = new Client(this, "m-b", "i-b");
        await a.JoinAsync();
        await b.JoinAsync();
        await SettleAsync(a, b);
        int epoch = Group.GroupEpoch;
        var owned = a.Owned.ToHashSet();
        Assert.Equal(-2, (await a.LeaveAsync(-2)).MemberEpoch);
        Assert.Equal(ErrorCode.UnreleasedInstanceId, (await new Client(this, "other", "i-b").JoinAsync()).Error);

        var again = new Client(this, "m-a2", "i-a");
        var r = await again.JoinAsync();
        Assert.Equal(ErrorCode.None, r.Error);
        Assert.Equal(epoch, Group.GroupEpoch);
        Assert.True(owned.SetEquals(r.Assignment!));
        Assert.Null(Group.Member("m-a"));
    }

    [Fact]
    public async Task Offset_commits_check_the_member_epoch()
    {
        var a = new Client(this, "m-a");
        await a.JoinAsync();
        OffsetCommitEntry[] entries = [new("a", 0, 10, -1, null)];
        Assert.Equal(ErrorCode.None, await _shard.CommitOffsetsAsync("g", a.Epoch, "m-a", null, -1, entries));
        Assert.Equal(ErrorCode.UnknownMemberId, await _shard.CommitOffsetsAsync("g", a.Epoch, "x", null, -1, entries));
        Assert.Equal(ErrorCode.StaleMemberEpoch, await _shard.CommitOffsetsAsync("g", a.Epoch + 1, "m-a", null, -1, entries));
        Assert.Equal(ErrorCode.UnknownMemberId, await _shard.CommitOffsetsAsync("g", -1, "", null, -1, entries));
        await a.LeaveAsync();
        Assert.Equal(ErrorCode.None, await _shard.CommitOffsetsAsync("g", -1, "", null, -1, entries));
    }

    [Fact]
    public async Task Classic_and_consumer_groups_of_one_id_exclude_each_other()
    {
        var a = new Client(this, "m-a");
        await a.JoinAsync();
        var join = await _shard.Classic.JoinAsync(new JoinGroupCommand("g", "", null, "consumer", [new ProtocolMetadata("range", [1])],
            10_000, 30_000, "c", "/h", true, false)).WaitAsync(Wait);
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, join.Error);
        var (_, groups) = _shard.ListGroups([], ["consumer"]);
        Assert.Equal("consumer", Assert.Single(groups).Type);
        Assert.Equal(ErrorCode.GroupIdNotFound, _shard.Consumer.Describe("nope").Error);
    }

    [Fact]
    public async Task An_empty_consumer_group_gives_way_to_a_classic_join()
    {
        var a = new Client(this, "m-a");
        await a.JoinAsync();
        await a.LeaveAsync();
        // Rolling back from group.protocol=consumer: the empty KIP-848 group is tombstoned and a classic group starts.
        var join = await _shard.Classic.JoinAsync(new JoinGroupCommand("g", "", null, "consumer", [new ProtocolMetadata("range", [1])],
            10_000, 30_000, "c", "/h", true, false)).WaitAsync(Wait);
        Assert.Equal(ErrorCode.MemberIdRequired, join.Error);
        Assert.IsType<ClassicGroup>(_shard.Group("g"));
        Assert.Contains(_log.Records, r => r.Value is null);
    }

    [Fact]
    public async Task Replay_rebuilds_members_epochs_and_assignments()
    {
        var a = new Client(this, "m-a");
        var b = new Client(this, "m-b");
        await a.JoinAsync();
        await b.JoinAsync(["a", "b"]);
        await SettleAsync(a, b);
        var before = _shard.Consumer.Describe("g").Group!;
        _shard.Close();

        _shard = NewShard(_log);
        _shard.Load();
        var after = _shard.Consumer.Describe("g").Group!;
        Assert.Equal(before.GroupEpoch, after.GroupEpoch);
        Assert.Equal(before.AssignmentEpoch, after.AssignmentEpoch);
        Assert.Equal(before.State, after.State);
        foreach (var (x, y) in before.Members.Zip(after.Members))
        {
            Assert.Equal(x.MemberId, y.MemberId);
            Assert.Equal(x.MemberEpoch, y.MemberEpoch);
            Assert.True(x.Assignment.SetEquals(y.Assignment));
            Assert.True(x.TargetAssignment.SetEquals(y.TargetAssignment));
            Assert.Equal(x.SubscribedTopicNames, y.SubscribedTopicNames);
        }
        Assert.Equal(ErrorCode.None, (await a.HeartbeatAsync()).Error); // members continue after a coordinator move
    }
}

using Samsa.Broker.Groups;
using Xunit;

namespace Samsa.Broker.Tests.Groups;

public sealed class ConsumerGroupAssignorTests
{
    private static readonly ConsumerGroupTopic A = new(Guid.NewGuid(), "a", 7);
    private static readonly ConsumerGroupTopic B = new(Guid.NewGuid(), "b", 4);

    private static AssignmentMemberSpec Member(string id, IReadOnlySet<TopicIdPartition>? previous = null, params ConsumerGroupTopic[] topics) =>
        new(id, null, topics.Length == 0 ? [A, B] : topics, previous ?? new HashSet<TopicIdPartition>());

    private static void AssertComplete(Dictionary<string, IReadOnlySet<TopicIdPartition>> result, params ConsumerGroupTopic[] topics)
    {
        var all = result.Values.SelectMany(p => p).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(topics.Sum(t => t.NumPartitions), all.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(12)]
    public void Uniform_is_balanced_within_one(int members)
    {
        var result = new UniformAssignor().Assign(Enumerable.Range(0, members).Select(i => Member("m" + i)).ToList());
        AssertComplete(result, A, B);
        Assert.True(result.Values.Max(p => p.Count) - result.Values.Min(p => p.Count) <= 1);
    }

    [Fact]
    public void Uniform_is_sticky_when_a_member_joins()
    {
        var first = new UniformAssignor().Assign([Member("m0"), Member("m1")]);
        var second = new UniformAssignor().Assign([Member("m0", first["m0"]), Member("m1", first["m1"]), Member("m2")]);
        AssertComplete(second, A, B);
        Assert.True(second["m0"].IsSubsetOf(first["m0"]));
        Assert.True(second["m1"].IsSubsetOf(first["m1"]));
        Assert.Equal(11 - second["m0"].Count - second["m1"].Count, second["m2"].Count);
        Assert.True(second.Values.Max(p => p.Count) - second.Values.Min(p => p.Count) <= 1);
    }

    [Fact]
    public void Uniform_gives_each_topic_only_to_its_subscribers()
    {
        var result = new UniformAssignor().Assign([Member("m0", null, A), Member("m1", null, A, B), Member("m2", null, B)]);
        AssertComplete(result, A, B);
        Assert.DoesNotContain(result["m0"], p => p.TopicId == B.TopicId);
        Assert.DoesNotContain(result["m2"], p => p.TopicId == A.TopicId);
        Assert.True(result.Values.Max(p => p.Count) - result.Values.Min(p => p.Count) <= 1);
    }

    [Fact]
    public void Range_gives_contiguous_ranges_per_topic_in_member_order()
    {
        var result = new RangeAssignor().Assign([Member("m1"), Member("m0")]);
        AssertComplete(result, A, B);
        Assert.Equal([0, 1, 2, 3], result["m0"].Where(p => p.TopicId == A.TopicId).Select(p => p.Partition).Order());
        Assert.Equal([4, 5, 6], result["m1"].Where(p => p.TopicId == A.TopicId).Select(p => p.Partition).Order());
        Assert.Equal([0, 1], result["m0"].Where(p => p.TopicId == B.TopicId).Select(p => p.Partition).Order());
    }
}

using System.Diagnostics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using static Samsa.Broker.Tests.Integration.BadInputHelpers;

namespace Samsa.Broker.Tests.Integration;

/// <summary>
/// Admin requests with absurd sizes (found by <see cref="FuzzTests"/>: a bit flip in numPartitions asked for 2^30
/// partitions and held the controller, stalling every later admin request on every connection).
/// </summary>
public sealed class BadInputAdminTests
{
    [Fact]
    public async Task Huge_partition_counts_get_POLICY_VIOLATION_promptly_and_the_controller_stays_available()
    {
        await using var broker = await TestBroker.StartAsync();
        await CreateTopicAsync(broker, "existing");
        await using var client = await RawKafkaClient.ConnectAsync(broker);
        var sw = Stopwatch.StartNew();

        foreach (bool validateOnly in new[] { true, false })
        {
            var create = new CreateTopicsRequest
            {
                ValidateOnly = validateOnly,
                TimeoutMs = 5000,
                Topics = [new() { Name = "huge", NumPartitions = 1 << 30, ReplicationFactor = 1 }],
            };
            var created = Assert.Single((await client.RequestAsync<CreateTopicsResponse>(ApiKey.CreateTopics, 7, create)).Topics);
            Assert.Equal((short)ErrorCode.PolicyViolation, created.ErrorCode);
            Assert.Equal(44, created.ErrorCode);

            var grow = new CreatePartitionsRequest
            {
                ValidateOnly = validateOnly,
                TimeoutMs = 5000,
                Topics = [new() { Name = "existing", Count = int.MaxValue, Assignments = null }],
            };
            var grown = await client.RequestAsync<CreatePartitionsResponse>(ApiKey.CreatePartitions, 3, grow);
            Assert.Equal(44, Assert.Single(grown.Results).ErrorCode);
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"took {sw.Elapsed}");

        // Kafka's limit is 10,000 partitions per request; at the limit a request is still served.
        var atLimit = new CreateTopicsRequest
        {
            ValidateOnly = true,
            Topics = [new() { Name = "at-limit", NumPartitions = 10_000, ReplicationFactor = 1 }],
        };
        Assert.Equal(0, Assert.Single((await client.RequestAsync<CreateTopicsResponse>(ApiKey.CreateTopics, 7, atLimit)).Topics).ErrorCode);

        // The controller is free: a normal topic creation and a partition increase go through.
        await CreateTopicAsync(broker, "normal", partitions: 2);
        var add = new CreatePartitionsRequest { TimeoutMs = 5000, Topics = [new() { Name = "existing", Count = 3, Assignments = null }] };
        Assert.Equal(0, Assert.Single((await client.RequestAsync<CreatePartitionsResponse>(ApiKey.CreatePartitions, 3, add)).Results).ErrorCode);
        Assert.Empty(UnexpectedErrors(broker));
    }
}

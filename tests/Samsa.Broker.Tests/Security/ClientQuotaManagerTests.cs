using Samsa.Broker.Quotas;
using Samsa.Broker.Security;
using Samsa.Metadata;

namespace Samsa.Broker.Tests.Security;

/// <summary>Which quota applies to a (user, client-id), in Kafka's precedence, and how usage is shared.</summary>
public sealed class ClientQuotaManagerTests
{
    private static ClientQuotaRecord Quota(string? user, string? client, double value, bool hasUser = true, bool hasClient = true)
    {
        var parts = new List<ClientQuotaEntityPart>();
        if (hasUser) parts.Add(new("user", user));
        if (hasClient) parts.Add(new("client-id", client));
        return new ClientQuotaRecord([.. parts], "producer_byte_rate", value);
    }

    [Fact]
    public void Kafka_precedence_picks_the_most_specific_entity()
    {
        var log = new MemoryMetadataLog(MetadataImage.Empty);
        var manager = new ClientQuotaManager(ClientQuotaType.Produce, log, QuotaWindow.Default, TimeProvider.System);
        var alice = new KafkaPrincipal("User", "alice");
        Assert.Null(manager.QuotaFor(alice, "app"));

        (ClientQuotaRecord Record, double Expected, (string, string) Key)[] levels =
        [
            (Quota(null, null, 8, hasUser: false), 8, ("", "app")),            // default client-id
            (Quota(null, "app", 7, hasUser: false), 7, ("", "app")),           // client-id
            (Quota(null, null, 6, hasClient: false), 6, ("alice", "")),        // default user
            (Quota(null, null, 5), 5, ("alice", "app")),                       // default user, default client-id
            (Quota(null, "app", 4), 4, ("alice", "app")),                      // default user, client-id
            (Quota("alice", null, 3, hasClient: false), 3, ("alice", "")),     // user
            (Quota("alice", null, 2), 2, ("alice", "app")),                    // user, default client-id
            (Quota("alice", "app", 1), 1, ("alice", "app")),                   // user, client-id
        ];
        foreach (var (record, expected, key) in levels)
        {
            log.Image = log.Image.Apply([record]);
            var quota = manager.QuotaFor(alice, "app");
            Assert.Equal(expected, quota?.Bound);
            Assert.Equal(key, quota?.SensorKey);
        }
        // Another user falls back to the default-user entities.
        Assert.Equal(4, manager.QuotaFor(new KafkaPrincipal("User", "bob"), "app")?.Bound);
        Assert.Equal(5, manager.QuotaFor(new KafkaPrincipal("User", "bob"), "other")?.Bound);
    }

    [Fact]
    public void Throttle_time_is_the_time_until_the_rate_is_back_at_the_quota()
    {
        var log = new MemoryMetadataLog(MetadataImage.Empty.Apply([Quota(null, "c", 1000, hasUser: false)]));
        var manager = new ClientQuotaManager(ClientQuotaType.Produce, log, QuotaWindow.Default, TimeProvider.System);
        var anonymous = KafkaPrincipal.Anonymous;
        Assert.Equal(0, manager.RecordAndGetThrottleTimeMs(anonymous, "c", 10_000)); // 10 000 B over a 10 s window: at quota
        int throttle = manager.RecordAndGetThrottleTimeMs(anonymous, "c", 5_000);      // 15 000 B: 50 % over → ~5 s
        Assert.InRange(throttle, 4_500, 5_100);
        Assert.Equal(0, manager.RecordAndGetThrottleTimeMs(anonymous, "other", 1_000_000)); // no quota for this client
    }
}

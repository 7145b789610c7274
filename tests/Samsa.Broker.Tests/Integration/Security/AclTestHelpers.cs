using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>ACL bindings, admin calls and clients shared by the authorization tests.</summary>
internal static class AclTestHelpers
{
    public const string StandardAuthorizer = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
    public const string Anonymous = "User:ANONYMOUS";

    public static AclBinding Allow(ResourceType type, string name, AclOperation operation, string principal = Anonymous,
        ResourcePatternType pattern = ResourcePatternType.Literal, string host = "*") =>
        Binding(type, name, operation, AclPermissionType.Allow, principal, pattern, host);

    public static AclBinding Deny(ResourceType type, string name, AclOperation operation, string principal = Anonymous,
        ResourcePatternType pattern = ResourcePatternType.Literal, string host = "*") =>
        Binding(type, name, operation, AclPermissionType.Deny, principal, pattern, host);

    private static AclBinding Binding(ResourceType type, string name, AclOperation operation, AclPermissionType permission,
        string principal, ResourcePatternType pattern, string host) => new()
    {
        Pattern = new ResourcePattern { Type = type, Name = name, ResourcePatternType = pattern },
        Entry = new AccessControlEntry { Principal = principal, Host = host, Operation = operation, PermissionType = permission },
    };

    public static AclBindingFilter Filter(ResourceType type = ResourceType.Any, string? name = null, ResourcePatternType pattern = ResourcePatternType.Any,
        string? principal = null, AclOperation operation = AclOperation.Any, AclPermissionType permission = AclPermissionType.Any) => new()
    {
        PatternFilter = new ResourcePatternFilter { Type = type, Name = name, ResourcePatternType = pattern },
        EntryFilter = new AccessControlEntryFilter { Principal = principal, Host = null, Operation = operation, PermissionType = permission },
    };

    public static IAdminClient Admin(string bootstrap, IDictionary<string, string>? extra = null)
    {
        var config = new AdminClientConfig { BootstrapServers = bootstrap };
        if (extra is not null) foreach (var (k, v) in extra) config.Set(k, v);
        return new AdminClientBuilder(config).Build();
    }

    /// <summary>Produces one record; returns the error code of its delivery (NoError when written).</summary>
    public static async Task<ErrorCode> TryProduceAsync(string bootstrap, string topic, string value = "v", IDictionary<string, string>? extra = null)
    {
        var config = new ProducerConfig { BootstrapServers = bootstrap, MessageTimeoutMs = 10_000, Acks = Acks.All };
        if (extra is not null) foreach (var (k, v) in extra) config.Set(k, v);
        using var producer = new ProducerBuilder<Null, string>(config).Build();
        try
        {
            await producer.ProduceAsync(topic, new Message<Null, string> { Value = value });
            return ErrorCode.NoError;
        }
        catch (ProduceException<Null, string> e)
        {
            return e.Error.Code;
        }
    }

    /// <summary>
    /// Reads <paramref name="topic"/> until <paramref name="expected"/> records arrive or the consumer reports an error;
    /// returns what was read and the first error. Subscribes as <paramref name="groupId"/> when <paramref name="subscribe"/>,
    /// else assigns partition 0 from offset 0 (the group id is then only used for coordinator lookups).
    /// </summary>
    public static (List<string> Values, ErrorCode Error) TryConsume(string bootstrap, string topic, int expected, string groupId,
        bool subscribe = false, IDictionary<string, string>? extra = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = groupId,
            AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false,
        };
        if (extra is not null) foreach (var (k, v) in extra) config.Set(k, v);
        using var consumer = new ConsumerBuilder<Ignore, string>(config).Build();
        if (subscribe) consumer.Subscribe(topic);
        else consumer.Assign(new TopicPartitionOffset(topic, 0, 0));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (values.Count < expected && DateTime.UtcNow < deadline)
        {
            try
            {
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result?.Message is not null) values.Add(result.Message.Value);
            }
            catch (ConsumeException e)
            {
                return (values, e.Error.Code);
            }
        }
        if (subscribe && values.Count > 0) consumer.Commit();
        consumer.Close();
        return (values, ErrorCode.NoError);
    }
}

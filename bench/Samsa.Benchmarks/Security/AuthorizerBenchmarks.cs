using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Security;
using Samsa.Broker.Security.Authorization;
using Samsa.Metadata;

namespace Samsa.Benchmarks.Security;

/// <summary>
/// The per-topic authorize call on the Produce/Fetch path with 10 000 ACLs (literal per topic, a few prefixes and a
/// wildcard): the cost a request pays per topic when ACLs are on.
/// </summary>
[MemoryDiagnoser]
public class AuthorizerBenchmarks
{
    private static readonly KafkaPrincipal Alice = new("User", "alice");
    private static readonly KafkaPrincipal User7 = new("User", "user-7");
    private AclAuthorizer _authorizer = null!;

    [GlobalSetup]
    public void Setup()
    {
        var acls = new List<MetadataRecord>();
        for (int i = 0; i < 10_000; i++)
            acls.Add(new AccessControlEntryRecord(Guid.NewGuid(), (sbyte)ResourceType.Topic, "topic-" + i, AclPatternType.Literal,
                "User:user-" + (i % 100), "*", (sbyte)AclOperation.Read, AclPermissionType.Allow));
        foreach (var prefix in new[] { "logs.", "logs.app.", "metrics.", "events.eu." })
            acls.Add(new AccessControlEntryRecord(Guid.NewGuid(), (sbyte)ResourceType.Topic, prefix, AclPatternType.Prefixed,
                "User:alice", "*", (sbyte)AclOperation.Write, AclPermissionType.Allow));
        acls.Add(new AccessControlEntryRecord(Guid.NewGuid(), (sbyte)ResourceType.Topic, "*", AclPatternType.Literal,
            "User:auditor", "*", (sbyte)AclOperation.Describe, AclPermissionType.Allow));
        _authorizer = new AclAuthorizer(new ImageLog(MetadataImage.Empty.Apply(acls)), [], false, NullLogger.Instance);
    }

    [Benchmark]
    public bool Literal_allowed() => _authorizer.Authorize(User7, "10.0.0.1", AclOperation.Read, ResourceType.Topic, "topic-7");

    [Benchmark]
    public bool Prefixed_allowed() => _authorizer.Authorize(Alice, "10.0.0.1", AclOperation.Write, ResourceType.Topic, "logs.app.checkout");

    [Benchmark]
    public bool Denied_no_match() => _authorizer.Authorize(Alice, "10.0.0.1", AclOperation.Read, ResourceType.Topic, "topic-7");

    private sealed class ImageLog(MetadataImage image) : IMetadataLog
    {
        public MetadataImage Image => image;
        public event Action<MetadataImage, IReadOnlyList<MetadataRecord>>? Applied { add { } remove { } }
        public ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

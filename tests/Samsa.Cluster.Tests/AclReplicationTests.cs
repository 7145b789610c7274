using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Cluster.Tests;

/// <summary>ACLs are metadata records: created through any node, they reach every node's authorizer through the quorum.</summary>
public sealed class AclReplicationTests
{
    private static readonly TimeSpan Formation = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Acls_created_on_one_node_are_seen_and_removed_on_every_node()
    {
        // The brokers talk to each other as User:ANONYMOUS over PLAINTEXT, so it is the super user (CLUSTER_ACTION for
        // replication, as Kafka needs for its broker principal).
        await using var cluster = new ClusterFixture(extraConfig: new Dictionary<string, string>
        {
            ["authorizer.class.name"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            ["super.users"] = "User:ANONYMOUS",
        });
        cluster.StartAll();
        await cluster.WaitForClusterAsync(3, Formation);

        var binding = new AclBinding
        {
            Pattern = new ResourcePattern { Type = ResourceType.Topic, Name = "payments.", ResourcePatternType = ResourcePatternType.Prefixed },
            Entry = new AccessControlEntry { Principal = "User:alice", Host = "*", Operation = AclOperation.Write, PermissionType = AclPermissionType.Allow },
        };
        using (var admin = ClusterFixture.Admin(cluster.Node(2).Bootstrap))
            await admin.CreateAclsAsync([binding], new CreateAclsOptions { RequestTimeout = TimeSpan.FromSeconds(20) });

        var all = new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        };
        async Task<List<AclBinding>?> AclsOn(NodeProcess node, int expected)
        {
            using var admin = ClusterFixture.Admin(node.Bootstrap);
            var acls = (await admin.DescribeAclsAsync(all, new DescribeAclsOptions { RequestTimeout = TimeSpan.FromSeconds(3) })).AclBindings;
            return acls.Count == expected ? acls : null;
        }
        foreach (var node in cluster.Nodes)
        {
            var acls = await ClusterFixture.WaitForAsync($"the ACL on node {node.NodeId}", Formation, () => AclsOn(node, 1));
            Assert.Equal(binding, Assert.Single(acls));
        }

        using (var admin = ClusterFixture.Admin(cluster.Node(3).Bootstrap))
            Assert.Single(Assert.Single(await admin.DeleteAclsAsync([all], new DeleteAclsOptions { RequestTimeout = TimeSpan.FromSeconds(20) })).AclBindings);
        foreach (var node in cluster.Nodes)
            await ClusterFixture.WaitForAsync($"no ACL on node {node.NodeId}", Formation, () => AclsOn(node, 0));
    }
}

// DescribeLogDirs (key 35), versions 1-4.
// One result per log dir with the sizes of the partitions it holds (null topics = all); v4 adds the dir's total and
// usable bytes. Offset lag is 0 (no future replicas / JBOD moves). Authorization: DESCRIBE on the cluster.
using Samsa.Broker.Api;
using Samsa.Broker.Configuration;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DescribeLogDirsHandler(ReplicaManager replicas, BrokerConfig config) : ApiHandler<DescribeLogDirsRequest, DescribeLogDirsResponse>
{
    public override ApiKey ApiKey => ApiKey.DescribeLogDirs;
    public override VersionRange Versions => new(1, 4);

    protected override ValueTask<DescribeLogDirsResponse?> HandleAsync(RequestContext context, DescribeLogDirsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeLogDirsResponse();
        if (!context.Authorize(AclOperation.Describe, ResourceType.Cluster, "kafka-cluster"))
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            return ValueTask.FromResult<DescribeLogDirsResponse?>(response);
        }
        var wanted = request.Topics?.GroupBy(t => t.Topic, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.SelectMany(t => t.Partitions).ToHashSet(), StringComparer.Ordinal);
        foreach (var dir in config.LogDirs)
        {
            string fullDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
            string prefix = fullDir + Path.DirectorySeparatorChar;
            var result = new DescribeLogDirsResponse.DescribeLogDirsResult { LogDir = fullDir };
            try
            {
                var drive = new DriveInfo(fullDir);
                result.TotalBytes = drive.TotalSize;
                result.UsableBytes = drive.AvailableFreeSpace;
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
            {
            }
            var partitions = replicas.Partitions
                .Where(p => Path.GetFullPath(p.Log.Directory).StartsWith(prefix, StringComparison.Ordinal))
                .Where(p => wanted is null || (wanted.TryGetValue(p.Topic, out var set) && set.Contains(p.Index)))
                .GroupBy(p => p.Topic)
                .OrderBy(g => g.Key, StringComparer.Ordinal);
            foreach (var group in partitions)
                result.Topics.Add(new()
                {
                    Name = group.Key,
                    Partitions = group.OrderBy(p => p.Index).Select(p => new DescribeLogDirsResponse.DescribeLogDirsPartition
                    {
                        PartitionIndex = p.Index, PartitionSize = p.Log.SizeInBytes, OffsetLag = 0, IsFutureKey = false,
                    }).ToList(),
                });
            response.Results.Add(result);
        }
        return ValueTask.FromResult<DescribeLogDirsResponse?>(response);
    }
}

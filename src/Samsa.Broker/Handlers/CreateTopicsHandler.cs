// CreateTopics (key 19), versions 2-7.
// NumPartitions/ReplicationFactor -1 (v4+) take num.partitions / default.replication.factor. Manual assignments are
// validated (consecutive partitions, equal replica counts, known brokers). Topic configs are validated against the
// topic config catalog (INVALID_CONFIG names the key). v5+ returns the created topic's configs with their sources.
// Duplicate names in one request → INVALID_REQUEST for each duplicate, as Kafka does.
// Authorization: CREATE on the cluster or on the topic; DESCRIBE_CONFIGS on the topic to see configs in the result.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Topics;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class CreateTopicsHandler(TopicCreator creator, TopicConfigs configs) : ApiHandler<CreateTopicsRequest, CreateTopicsResponse>
{
    public override ApiKey ApiKey => ApiKey.CreateTopics;
    public override VersionRange Versions => new(2, 7);

    protected override async ValueTask<CreateTopicsResponse?> HandleAsync(RequestContext context, CreateTopicsRequest request, CancellationToken cancellationToken)
    {
        var response = new CreateTopicsResponse();
        var duplicates = request.Topics.GroupBy(t => t.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        bool clusterCreate = context.Authorize(AclOperation.Create, ResourceType.Cluster, "kafka-cluster");
        foreach (var topic in request.Topics)
        {
            var result = new CreateTopicsResponse.CreatableTopicResult { Name = topic.Name, ErrorMessage = null };
            response.Topics.Add(result);
            if (duplicates.Contains(topic.Name))
            {
                Fail(result, ErrorCode.InvalidRequest, $"Create topics request from client `{context.Header.ClientId}` contains multiple entries for the following topics: {topic.Name}");
                continue;
            }
            if (!clusterCreate && !context.Authorize(AclOperation.Create, ResourceType.Topic, topic.Name))
            {
                Fail(result, ErrorCode.TopicAuthorizationFailed, "Authorization failed.");
                continue;
            }
            if (topic.Assignments.Count > 0 && (topic.NumPartitions != -1 || topic.ReplicationFactor != -1))
            {
                Fail(result, ErrorCode.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
                continue;
            }
            if (topic.Assignments.GroupBy(a => a.PartitionIndex).Any(g => g.Count() > 1))
            {
                Fail(result, ErrorCode.InvalidReplicaAssignment, "A partition appears more than once in the replica assignment.");
                continue;
            }
            var assignments = topic.Assignments.Count == 0 ? null
                : topic.Assignments.ToDictionary(a => a.PartitionIndex, a => a.BrokerIds.ToArray());
            var topicConfigs = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var c in topic.Configs) topicConfigs[c.Name] = c.Value;

            var created = await creator.CreateAsync(topic.Name, topic.NumPartitions, topic.ReplicationFactor, assignments,
                topicConfigs, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            if (!created.Result.IsOk || created.Topic is null)
            {
                Fail(result, created.Result.Error, created.Result.Message);
                continue;
            }
            result.TopicId = request.ValidateOnly ? Guid.Empty : created.Topic.TopicId;
            result.NumPartitions = created.Topic.Partitions.Length;
            result.ReplicationFactor = (short)created.Topic.Partitions[0].Replicas.Length;
            if (context.Authorize(AclOperation.DescribeConfigs, ResourceType.Topic, topic.Name))
            {
                result.Configs = [];
                foreach (var entry in configs.Describe(topic.Name))
                {
                    bool overridden = topicConfigs.TryGetValue(entry.Name, out var v) && v is not null;
                    result.Configs.Add(new()
                    {
                        Name = entry.Name,
                        Value = entry.Sensitive ? null : overridden ? v : entry.Value,
                        ReadOnly = entry.ReadOnly,
                        ConfigSource = (sbyte)(overridden ? Configuration.ConfigSource.DynamicTopicConfig : entry.Source),
                        IsSensitive = entry.Sensitive,
                    });
                }
            }
            else
            {
                result.TopicConfigErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
            }
        }
        return response;
    }

    private static void Fail(CreateTopicsResponse.CreatableTopicResult result, ErrorCode error, string? message)
    {
        result.ErrorCode = (short)error;
        result.ErrorMessage = message;
        result.Configs = null;
    }
}

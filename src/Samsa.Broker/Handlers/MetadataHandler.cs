// Metadata (key 3), versions 0-12.
// Topics: null (v1+) = all topics; an empty list on v0 = all topics. v10+ may name topics by id.
// Auto-creation (auto.create.topics.enable and AllowAutoTopicCreation, always allowed before v4) creates the topic
// synchronously and returns it with its partitions, instead of Kafka's LEADER_NOT_AVAILABLE-then-retry.
// Authorization: DESCRIBE on each topic (unauthorized topics are omitted from "all topics" listings and answered
// TOPIC_AUTHORIZATION_FAILED when named); auto-creation needs CREATE on the cluster or the topic.
// Authorized-operations bitfields (v8+) are computed when asked for.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class MetadataHandler(IMetadataLog metadata, NodeInfo node, TopicCreator topics)
    : ApiHandler<MetadataRequest, MetadataResponse>
{
    private static readonly AclOperation[] TopicOperations =
        [AclOperation.Read, AclOperation.Write, AclOperation.Create, AclOperation.Delete, AclOperation.Alter,
         AclOperation.Describe, AclOperation.DescribeConfigs, AclOperation.AlterConfigs];

    private static readonly AclOperation[] ClusterOperations =
        [AclOperation.Create, AclOperation.Alter, AclOperation.Describe, AclOperation.ClusterAction,
         AclOperation.DescribeConfigs, AclOperation.AlterConfigs, AclOperation.IdempotentWrite];

    public override ApiKey ApiKey => ApiKey.Metadata;
    public override VersionRange Versions => new(0, 12);

    protected override async ValueTask<MetadataResponse?> HandleAsync(RequestContext context, MetadataRequest request, CancellationToken cancellationToken)
    {
        short version = context.ApiVersion;
        var image = metadata.Image;
        var response = new MetadataResponse
        {
            ClusterId = node.ClusterId,
            ControllerId = metadata.ControllerId ?? (metadata is LocalMetadataLog ? node.NodeId : -1),
            Brokers = Brokers(image, context.Session.ListenerName),
        };

        bool allTopics = request.Topics is null || (version == 0 && request.Topics.Count == 0);
        if (allTopics)
        {
            foreach (var topic in image.TopicsByName.Values.OrderBy(t => t.Name, StringComparer.Ordinal))
                if (context.Authorize(AclOperation.Describe, ResourceType.Topic, topic.Name))
                    response.Topics.Add(Describe(context, image, topic, request.IncludeTopicAuthorizedOperations));
        }
        else
        {
            bool allowAutoCreate = version < 4 || request.AllowAutoTopicCreation;
            foreach (var requested in request.Topics!)
                response.Topics.Add(await DescribeRequestedAsync(context, requested, allowAutoCreate, request.IncludeTopicAuthorizedOperations, cancellationToken).ConfigureAwait(false));
        }

        if (request.IncludeClusterAuthorizedOperations && version is >= 8 and <= 10)
            response.ClusterAuthorizedOperations = AuthorizedOperations(context, ResourceType.Cluster, "kafka-cluster", ClusterOperations);
        return response;
    }

    private async ValueTask<MetadataResponse.MetadataResponseTopic> DescribeRequestedAsync(
        RequestContext context, MetadataRequest.MetadataRequestTopic requested, bool allowAutoCreate, bool includeOps, CancellationToken ct)
    {
        var image = metadata.Image;
        TopicImage? topic;
        if (requested.Name is null && context.ApiVersion < 12)
            return new() { Name = "", TopicId = requested.TopicId, ErrorCode = (short)ErrorCode.InvalidRequest };
        if (requested.Name is null)
        {
            topic = image.TopicsById.GetValueOrDefault(requested.TopicId);
            if (topic is null || !context.Authorize(AclOperation.Describe, ResourceType.Topic, topic.Name))
                return new() { Name = null, TopicId = requested.TopicId, ErrorCode = (short)ErrorCode.UnknownTopicId };
            return Describe(context, image, topic, includeOps);
        }

        string name = requested.Name;
        if (!context.Authorize(AclOperation.Describe, ResourceType.Topic, name))
            return new() { Name = name, ErrorCode = (short)ErrorCode.TopicAuthorizationFailed };
        topic = image.Topic(name);
        if (topic is not null) return Describe(context, image, topic, includeOps);

        if (TopicNames.Validate(name) is not null)
            return new() { Name = name, ErrorCode = (short)ErrorCode.InvalidTopicException };
        if (!allowAutoCreate || !topics.AutoCreateEnabled || TopicCreator.IsInternal(name))
            return new() { Name = name, ErrorCode = (short)ErrorCode.UnknownTopicOrPartition };
        if (!context.Authorize(AclOperation.Create, ResourceType.Cluster, "kafka-cluster") &&
            !context.Authorize(AclOperation.Create, ResourceType.Topic, name))
            return new() { Name = name, ErrorCode = (short)ErrorCode.TopicAuthorizationFailed };

        var created = await topics.AutoCreateAsync(name, ct).ConfigureAwait(false);
        return created is null
            ? new() { Name = name, ErrorCode = (short)ErrorCode.LeaderNotAvailable }
            : Describe(context, metadata.Image, created, includeOps);
    }

    private static MetadataResponse.MetadataResponseTopic Describe(RequestContext context, MetadataImage image, TopicImage topic, bool includeOps) => new()
    {
        Name = topic.Name,
        TopicId = topic.TopicId,
        IsInternal = topic.IsInternal,
        TopicAuthorizedOperations = includeOps
            ? AuthorizedOperations(context, ResourceType.Topic, topic.Name, TopicOperations)
            : int.MinValue,
        Partitions = topic.Partitions.Select(p => new MetadataResponse.MetadataResponsePartition
        {
            PartitionIndex = p.PartitionId,
            LeaderId = p.Leader,
            LeaderEpoch = p.LeaderEpoch,
            ReplicaNodes = [.. p.Replicas],
            IsrNodes = [.. p.Isr],
            OfflineReplicas = [.. p.Replicas.Where(r => image.Brokers.GetValueOrDefault(r) is null or { Fenced: true })],
            ErrorCode = (short)(p.Leader < 0 ? ErrorCode.LeaderNotAvailable : ErrorCode.None),
        }).ToList(),
    };

    private List<MetadataResponse.MetadataResponseBroker> Brokers(MetadataImage image, string listenerName)
    {
        var brokers = new List<MetadataResponse.MetadataResponseBroker>();
        // Live brokers only (Kafka hides fenced ones), each at its endpoint on the listener the client came through.
        foreach (var broker in image.Brokers.Values.Where(b => !b.Fenced).OrderBy(b => b.BrokerId))
        {
            var endpoint = broker.Endpoints.FirstOrDefault(e => e.Name == listenerName);
            if (endpoint is not null)
                brokers.Add(new() { NodeId = broker.BrokerId, Host = endpoint.Host, Port = endpoint.Port, Rack = broker.Rack });
        }
        if (brokers.Count == 0)
        {
            var self = node.AdvertisedEndpoints.FirstOrDefault(e => e.Name == listenerName) ?? node.AdvertisedEndpoints[0];
            brokers.Add(new() { NodeId = node.NodeId, Host = self.Host, Port = self.Port, Rack = node.Rack });
        }
        return brokers;
    }

    internal static int AuthorizedOperations(RequestContext context, ResourceType type, string name, AclOperation[] operations)
    {
        int bits = 0;
        foreach (var op in operations)
            if (context.Authorize(op, type, name)) bits |= 1 << (int)op;
        return bits;
    }
}

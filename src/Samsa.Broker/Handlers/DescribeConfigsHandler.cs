// DescribeConfigs (key 32), versions 1-4.
// Topic resources list every topic config with its effective value and source (DYNAMIC_TOPIC_CONFIG,
// STATIC_BROKER_CONFIG, DEFAULT_CONFIG); broker resources (name = this node's id, or "" for cluster defaults)
// list every broker config with its static/default source. Synonyms (v1+) list the topic override and its broker
// default; documentation (v3+) comes from the config definitions. Sensitive values are reported as null.
// Authorization: DESCRIBE_CONFIGS on the topic or the cluster.
using Samsa.Broker.Api;
using Samsa.Broker.Configuration;
using Samsa.Broker.Security;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Entry = Samsa.Protocol.Messages.DescribeConfigsResponse.DescribeConfigsResourceResult;

namespace Samsa.Broker.Handlers;

public sealed class DescribeConfigsHandler(IMetadataLog metadata, TopicConfigs topicConfigs, BrokerConfig broker, NodeInfo node)
    : ApiHandler<DescribeConfigsRequest, DescribeConfigsResponse>
{
    public override ApiKey ApiKey => ApiKey.DescribeConfigs;
    public override VersionRange Versions => new(1, 4);

    protected override ValueTask<DescribeConfigsResponse?> HandleAsync(RequestContext context, DescribeConfigsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeConfigsResponse();
        foreach (var resource in request.Resources)
        {
            var result = new DescribeConfigsResponse.DescribeConfigsResult
            {
                ResourceType = resource.ResourceType,
                ResourceName = resource.ResourceName,
                ErrorMessage = null,
            };
            response.Results.Add(result);
            var keys = resource.ConfigurationKeys is { Count: > 0 } k ? k.ToHashSet(StringComparer.Ordinal) : null;
            switch ((ConfigResourceType)resource.ResourceType)
            {
                case ConfigResourceType.Topic:
                    DescribeTopic(context, request, resource.ResourceName, keys, result);
                    break;
                case ConfigResourceType.Broker:
                    DescribeBroker(context, request, resource.ResourceName, keys, result);
                    break;
                default:
                    result.ErrorCode = (short)ErrorCode.InvalidRequest;
                    result.ErrorMessage = $"Unsupported resource type {resource.ResourceType}.";
                    break;
            }
        }
        return ValueTask.FromResult<DescribeConfigsResponse?>(response);
    }

    private void DescribeTopic(RequestContext context, DescribeConfigsRequest request, string topic, HashSet<string>? keys,
        DescribeConfigsResponse.DescribeConfigsResult result)
    {
        if (!context.Authorize(AclOperation.DescribeConfigs, ResourceType.Topic, topic))
        {
            result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
            return;
        }
        if (metadata.Image.Topic(topic) is null)
        {
            result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
            result.ErrorMessage = $"Topic '{topic}' does not exist.";
            return;
        }
        foreach (var entry in topicConfigs.Describe(topic))
        {
            if (keys is not null && !keys.Contains(entry.Name)) continue;
            var e = ToEntry(entry, request.IncludeDocumentation);
            if (request.IncludeSynonyms)
            {
                if (entry.Source == ConfigSource.DynamicTopicConfig)
                    e.Synonyms.Add(new() { Name = entry.Name, Value = entry.Value, Source = (sbyte)ConfigSource.DynamicTopicConfig });
                var def = BrokerConfigDefinitions.All.FirstOrDefault(d => d.TopicConfigName == entry.Name);
                if (def is not null)
                {
                    var (value, source) = topicConfigs.BrokerDefault(entry.Name);
                    e.Synonyms.Add(new() { Name = def.Name, Value = def.IsSensitive ? null : value, Source = (sbyte)source });
                }
            }
            result.Configs.Add(e);
        }
    }

    private void DescribeBroker(RequestContext context, DescribeConfigsRequest request, string name, HashSet<string>? keys,
        DescribeConfigsResponse.DescribeConfigsResult result)
    {
        if (!context.Authorize(AclOperation.DescribeConfigs, ResourceType.Cluster, "kafka-cluster"))
        {
            result.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            return;
        }
        if (name.Length > 0 && name != node.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            result.ErrorCode = (short)ErrorCode.InvalidRequest;
            result.ErrorMessage = $"Unexpected broker id, expected {node.NodeId} or empty string, but received {name}";
            return;
        }
        foreach (var def in BrokerConfigDefinitions.All)
        {
            if (keys is not null && !keys.Contains(def.Name)) continue;
            bool set = broker.Values.TryGetValue(def.Name, out var value);
            var source = set ? ConfigSource.StaticBrokerConfig : ConfigSource.DefaultConfig;
            var entry = new ConfigEntry(def.Name, set ? value : def.Default, source, !def.IsDynamic, def.IsSensitive, def.Type, def.Documentation);
            var e = ToEntry(entry, request.IncludeDocumentation);
            if (request.IncludeSynonyms)
                e.Synonyms.Add(new() { Name = def.Name, Value = e.Value, Source = (sbyte)source });
            result.Configs.Add(e);
        }
    }

    private static Entry ToEntry(ConfigEntry entry, bool includeDocumentation) => new()
    {
        Name = entry.Name,
        Value = entry.Sensitive ? null : entry.Value,
        ReadOnly = entry.ReadOnly,
        ConfigSource = (sbyte)entry.Source,
        IsSensitive = entry.Sensitive,
        ConfigType = (sbyte)entry.Type,
        Documentation = includeDocumentation ? entry.Documentation : null,
    };
}

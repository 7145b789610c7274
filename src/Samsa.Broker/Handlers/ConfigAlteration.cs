using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Protocol;

namespace Samsa.Broker.Handlers;

/// <summary>
/// Shared by AlterConfigs and IncrementalAlterConfigs: authorizes, validates and applies config changes to one
/// resource through the controller. Topic configs are dynamic; broker configs are static in this version
/// (changing them at runtime answers INVALID_REQUEST with a message saying so).
/// </summary>
public sealed class ConfigAlteration(Controller controller, TopicConfigs topicConfigs)
{
    public async Task<(ErrorCode Error, string? Message)> ApplyAsync(
        RequestContext context, ConfigResourceType type, string name,
        IReadOnlyList<(string Name, AlterConfigOp Op, string? Value)> changes, bool replaceAll, bool validateOnly,
        CancellationToken ct)
    {
        switch (type)
        {
            case ConfigResourceType.Topic:
                if (!context.Authorize(AclOperation.AlterConfigs, ResourceType.Topic, name))
                    return (ErrorCode.TopicAuthorizationFailed, null);
                if (controller.Image.Topic(name) is null)
                    return (ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
                if (changes.GroupBy(c => c.Name).Any(g => g.Count() > 1))
                    return (ErrorCode.InvalidRequest, "A config name appears more than once in the request.");
                foreach (var change in changes)
                {
                    if (!topicConfigs.IsKnown(change.Name))
                        return (ErrorCode.InvalidConfig, $"Unknown topic config name: {change.Name}");
                    if (change.Op is AlterConfigOp.Append or AlterConfigOp.Subtract && change.Name != "cleanup.policy")
                        return (ErrorCode.InvalidConfig, $"Config {change.Name} is not a list; APPEND/SUBTRACT are not allowed.");
                }
                string? invalid = topicConfigs.Validate(changes.Where(c => c.Op == AlterConfigOp.Set).Select(c => KeyValuePair.Create(c.Name, c.Value)));
                if (invalid is not null) return (ErrorCode.InvalidConfig, invalid);
                var outcome = await controller.AlterConfigsAsync(type, name, changes, replaceAll, validateOnly, ct).ConfigureAwait(false);
                return (outcome.Error, outcome.Message);
            case ConfigResourceType.Broker:
                if (!context.Authorize(AclOperation.AlterConfigs, ResourceType.Cluster, "kafka-cluster"))
                    return (ErrorCode.ClusterAuthorizationFailed, null);
                return (ErrorCode.InvalidRequest, "Dynamic broker configs are not supported yet; set them in server.properties or with --override.");
            default:
                return (ErrorCode.InvalidRequest, $"Unsupported resource type {(sbyte)type}.");
        }
    }
}

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
                var current = controller.Image.ConfigsOf(type, name);
                // The resulting set of overrides is computed and validated as a whole before anything is persisted,
                // so no operation (APPEND included) can store a value the topic could not load.
                var merged = replaceAll
                    ? new Dictionary<string, string?>(StringComparer.Ordinal)
                    : current.ToDictionary(kv => kv.Key, kv => (string?)kv.Value, StringComparer.Ordinal);
                var resolved = new List<(string Name, AlterConfigOp Op, string? Value)>();
                foreach (var change in changes)
                {
                    if (!topicConfigs.IsKnown(change.Name))
                        return (ErrorCode.InvalidConfig, $"Unknown topic config name: {change.Name}");
                    switch (change.Op)
                    {
                        case AlterConfigOp.Set when change.Value is null:
                            return (ErrorCode.InvalidRequest, $"Null value not supported for : {change.Name}");
                        case AlterConfigOp.Set:
                            merged[change.Name] = change.Value;
                            resolved.Add((change.Name, AlterConfigOp.Set, change.Value));
                            break;
                        case AlterConfigOp.Delete:
                            merged.Remove(change.Name);
                            resolved.Add((change.Name, AlterConfigOp.Delete, null));
                            break;
                        case AlterConfigOp.Append or AlterConfigOp.Subtract:
                            if (change.Name != "cleanup.policy")
                                return (ErrorCode.InvalidConfig, $"Config {change.Name} is not a list; APPEND/SUBTRACT are not allowed.");
                            // Kafka applies list operations to the current value, falling back to the default.
                            string? baseValue = current.TryGetValue(change.Name, out var v) ? v : topicConfigs.BrokerDefault(change.Name).Value;
                            string result = ListOp(baseValue, change.Value, change.Op == AlterConfigOp.Append);
                            merged[change.Name] = result;
                            resolved.Add((change.Name, AlterConfigOp.Set, result));
                            break;
                    }
                }
                string? invalid = topicConfigs.Validate(merged);
                if (invalid is not null) return (ErrorCode.InvalidConfig, invalid);
                var outcome = await controller.AlterConfigsAsync(type, name, resolved, replaceAll, validateOnly, ct).ConfigureAwait(false);
                return (outcome.Error, outcome.Message);
            case ConfigResourceType.Broker:
                if (!context.Authorize(AclOperation.AlterConfigs, ResourceType.Cluster, "kafka-cluster"))
                    return (ErrorCode.ClusterAuthorizationFailed, null);
                return (ErrorCode.InvalidRequest, "Dynamic broker configs are not supported yet; set them in server.properties or with --override.");
            default:
                return (ErrorCode.InvalidRequest, $"Unsupported resource type {(sbyte)type}.");
        }
    }

    private static string ListOp(string? current, string? value, bool append)
    {
        var items = (current ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var delta = (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (append) items.AddRange(delta.Where(d => !items.Contains(d)));
        else items.RemoveAll(delta.Contains);
        return string.Join(',', items);
    }
}

using Microsoft.Extensions.Logging;
using Samsa.Broker.Configuration;
using Samsa.Metadata;
using Samsa.Protocol;

namespace Samsa.Broker.Topics;

/// <summary>
/// Creates topics on behalf of CreateTopics and of auto-creation (Metadata, Produce): validates configs against the
/// topic config catalog, fills broker defaults (num.partitions, default.replication.factor) and asks the controller.
/// </summary>
public sealed class TopicCreator(Controller controller, TopicConfigs configs, BrokerConfig broker, ILogger<TopicCreator> logger)
{
    public bool AutoCreateEnabled => broker.AutoCreateTopicsEnable;

    public static bool IsInternal(string name) => name is "__consumer_offsets" or "__transaction_state";

    public async Task<CreateTopicResult> CreateAsync(
        string name, int numPartitions, short replicationFactor, IReadOnlyDictionary<int, int[]>? assignments,
        IReadOnlyDictionary<string, string?> topicConfigs, bool validateOnly, CancellationToken ct)
    {
        string? configError = configs.Validate(topicConfigs);
        if (configError is not null) return new(new(ErrorCode.InvalidConfig, configError), null);
        if (numPartitions == -1) numPartitions = broker.NumPartitions;
        if (replicationFactor == -1) replicationFactor = (short)broker.DefaultReplicationFactor;
        return await controller.CreateTopicAsync(
            new CreateTopicSpec(name, numPartitions, replicationFactor, assignments, topicConfigs), validateOnly, ct).ConfigureAwait(false);
    }

    /// <summary>Creates a topic with broker defaults; returns it, or the existing one if another request won the race.</summary>
    public async Task<TopicImage?> AutoCreateAsync(string name, CancellationToken ct)
    {
        var result = await CreateAsync(name, -1, -1, null, new Dictionary<string, string?>(), false, ct).ConfigureAwait(false);
        if (result.Result.IsOk)
        {
            logger.LogInformation("Auto-created topic {Topic}", name);
            return controller.Image.Topic(name);
        }
        if (result.Result.Error == ErrorCode.TopicAlreadyExists) return controller.Image.Topic(name);
        logger.LogWarning("Auto-creation of topic {Topic} failed: {Error} {Message}", name, result.Result.Error, result.Result.Message);
        return null;
    }
}

// DeleteTopics (key 20), versions 1-6.
// v6 names topics by name or id. Internal topics cannot be deleted (INVALID_TOPIC_EXCEPTION... Kafka answers
// TOPIC_AUTHORIZATION_FAILED/INVALID_REQUEST depending on version; Samsa answers INVALID_REQUEST with a message).
// The partitions' logs are removed by the replica manager when it applies the RemoveTopic record.
// Authorization: DELETE on the topic (DESCRIBE decides whether the topic's existence is revealed).
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DeleteTopicsHandler(Controller controller) : ApiHandler<DeleteTopicsRequest, DeleteTopicsResponse>
{
    public override ApiKey ApiKey => ApiKey.DeleteTopics;
    public override VersionRange Versions => new(1, 6);

    protected override async ValueTask<DeleteTopicsResponse?> HandleAsync(RequestContext context, DeleteTopicsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteTopicsResponse();
        var targets = context.ApiVersion >= 6
            ? request.Topics.Select(t => (t.Name, t.TopicId)).ToList()
            : request.TopicNames.Select(n => ((string?)n, Guid.Empty)).ToList();
        foreach (var (name, id) in targets)
        {
            var image = controller.Image;
            var topic = name is not null ? image.Topic(name) : image.TopicsById.GetValueOrDefault(id);
            var result = new DeleteTopicsResponse.DeletableTopicResult { Name = name ?? topic?.Name, TopicId = topic?.TopicId ?? id };
            response.Responses.Add(result);
            if (name is not null && id != Guid.Empty)
            {
                result.ErrorCode = (short)ErrorCode.InvalidRequest;
                result.ErrorMessage = "Topic name and topic id cannot both be set.";
                continue;
            }
            string resourceName = topic?.Name ?? name ?? "";
            if (topic is null || !context.Authorize(AclOperation.Describe, ResourceType.Topic, resourceName))
            {
                result.ErrorCode = (short)(name is null ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition);
                continue;
            }
            if (!context.Authorize(AclOperation.Delete, ResourceType.Topic, topic.Name))
            {
                result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                continue;
            }
            if (TopicCreator.IsInternal(topic.Name))
            {
                result.ErrorCode = (short)ErrorCode.InvalidRequest;
                result.ErrorMessage = $"Internal topic {topic.Name} cannot be deleted.";
                continue;
            }
            var outcome = await controller.DeleteTopicAsync(topic.TopicId, cancellationToken).ConfigureAwait(false);
            result.ErrorCode = (short)outcome.Error;
            result.ErrorMessage = outcome.Message;
        }
        return response;
    }
}

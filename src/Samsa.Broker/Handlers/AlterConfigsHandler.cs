// AlterConfigs (key 33), versions 0-2. Legacy, non-incremental: the given set replaces every dynamic config of
// the resource. See ConfigAlteration for what is alterable.
using Samsa.Broker.Api;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class AlterConfigsHandler(ConfigAlteration alteration) : ApiHandler<AlterConfigsRequest, AlterConfigsResponse>
{
    public override ApiKey ApiKey => ApiKey.AlterConfigs;
    public override VersionRange Versions => new(0, 2);

    protected override async ValueTask<AlterConfigsResponse?> HandleAsync(RequestContext context, AlterConfigsRequest request, CancellationToken cancellationToken)
    {
        var response = new AlterConfigsResponse();
        foreach (var resource in request.Resources)
        {
            var changes = resource.Configs
                .Select(c => (c.Name, AlterConfigOp.Set, c.Value)).ToList(); // null values are refused, as Kafka
            var (error, message) = await alteration.ApplyAsync(context, (ConfigResourceType)resource.ResourceType, resource.ResourceName,
                changes, replaceAll: true, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            response.Responses.Add(new()
            {
                ResourceType = resource.ResourceType, ResourceName = resource.ResourceName,
                ErrorCode = (short)error, ErrorMessage = message,
            });
        }
        return response;
    }
}

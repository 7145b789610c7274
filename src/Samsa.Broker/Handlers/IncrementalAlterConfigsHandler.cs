// IncrementalAlterConfigs (key 44), versions 0-1. Operations SET, DELETE, APPEND, SUBTRACT (KIP-339);
// APPEND/SUBTRACT only on list configs. See ConfigAlteration for what is alterable.
using Samsa.Broker.Api;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class IncrementalAlterConfigsHandler(ConfigAlteration alteration)
    : ApiHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>
{
    public override ApiKey ApiKey => ApiKey.IncrementalAlterConfigs;
    public override VersionRange Versions => new(0, 1);

    protected override async ValueTask<IncrementalAlterConfigsResponse?> HandleAsync(RequestContext context, IncrementalAlterConfigsRequest request, CancellationToken cancellationToken)
    {
        var response = new IncrementalAlterConfigsResponse();
        foreach (var resource in request.Resources)
        {
            ErrorCode error;
            string? message;
            if (resource.Configs.Any(c => c.ConfigOperation is < 0 or > 3))
            {
                (error, message) = (ErrorCode.InvalidRequest, "Unknown config operation.");
            }
            else
            {
                var changes = resource.Configs.Select(c => (c.Name, (AlterConfigOp)c.ConfigOperation, c.Value)).ToList();
                (error, message) = await alteration.ApplyAsync(context, (ConfigResourceType)resource.ResourceType, resource.ResourceName,
                    changes, replaceAll: false, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            }
            response.Responses.Add(new()
            {
                ResourceType = resource.ResourceType, ResourceName = resource.ResourceName,
                ErrorCode = (short)error, ErrorMessage = message,
            });
        }
        return response;
    }
}

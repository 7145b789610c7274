// AlterUserScramCredentials (key 51), version 0.
// Sets or removes users' SCRAM-SHA-256/512 credentials in the cluster metadata through the controller (records
// UserScramCredentialRecord / RemoveUserScramCredentialRecord, so they replicate with the metadata log). The client
// sends salt and salted password; only StoredKey and ServerKey are kept. Validation as Kafka's ScramControlManager:
// one user at most once per request (DUPLICATE_RESOURCE), iterations in [4096, 16384], unknown mechanism
// UNSUPPORTED_SASL_MECHANISM, deleting a missing credential RESOURCE_NOT_FOUND. Requires ALTER on the cluster.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class AlterUserScramCredentialsHandler(Controller controller)
    : ApiHandler<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse>
{
    public override ApiKey ApiKey => ApiKey.AlterUserScramCredentials;
    public override VersionRange Versions => new(0, 0);

    protected override async ValueTask<AlterUserScramCredentialsResponse?> HandleAsync(
        RequestContext context, AlterUserScramCredentialsRequest request, CancellationToken cancellationToken)
    {
        var response = new AlterUserScramCredentialsResponse();
        if (!context.Authorize(AclOperation.Alter, ResourceType.Cluster, "kafka-cluster"))
        {
            foreach (var user in request.Deletions.Select(d => d.Name).Concat(request.Upsertions.Select(u => u.Name)).Distinct(StringComparer.Ordinal))
                response.Results.Add(new() { User = user, ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed, ErrorMessage = null });
            return response;
        }
        var results = await controller.AlterUserScramCredentialsAsync(
            [.. request.Deletions.Select(d => new ScramDeletion(d.Name, d.Mechanism))],
            [.. request.Upsertions.Select(u => new ScramUpsertion(u.Name, u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword))],
            cancellationToken).ConfigureAwait(false);
        foreach (var r in results)
            response.Results.Add(new() { User = r.User, ErrorCode = (short)r.Result.Error, ErrorMessage = r.Result.Message });
        return response;
    }
}

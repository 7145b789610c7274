// DescribeUserScramCredentials (key 50), version 0.
// Lists users' SCRAM mechanisms and iteration counts from the metadata image; salts and keys never leave the broker.
// Null or empty users: every user. A user named twice: DUPLICATE_RESOURCE; a user without credentials:
// RESOURCE_NOT_FOUND (Kafka's messages). Requires DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class DescribeUserScramCredentialsHandler(IMetadataLog metadata)
    : ApiHandler<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse>
{
    public override ApiKey ApiKey => ApiKey.DescribeUserScramCredentials;
    public override VersionRange Versions => new(0, 0);

    protected override ValueTask<DescribeUserScramCredentialsResponse?> HandleAsync(
        RequestContext context, DescribeUserScramCredentialsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeUserScramCredentialsResponse();
        if (!context.Authorize(AclOperation.Describe, ResourceType.Cluster, "kafka-cluster"))
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            response.ErrorMessage = "Cluster authorization failed.";
            return ValueTask.FromResult<DescribeUserScramCredentialsResponse?>(response);
        }
        var byUser = metadata.Image.ScramCredentials
            .GroupBy(kv => kv.Key.User, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(kv => kv.Key.Mechanism).ToList(), StringComparer.Ordinal);
        IEnumerable<string> users = request.Users is { Count: > 0 } requested
            ? requested.Select(u => u.Name)
            : byUser.Keys.Order(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var duplicates = request.Users?.GroupBy(u => u.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal) ?? [];
        foreach (var user in users)
        {
            if (!seen.Add(user)) continue;
            var result = new DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult { User = user, ErrorMessage = null };
            if (duplicates.Contains(user))
            {
                result.ErrorCode = (short)ErrorCode.DuplicateResource;
                result.ErrorMessage = "Cannot describe SCRAM credentials for the same user twice in a single request";
            }
            else if (!byUser.TryGetValue(user, out var credentials))
            {
                result.ErrorCode = (short)ErrorCode.ResourceNotFound;
                result.ErrorMessage = "Attempt to describe a user credential that does not exist";
            }
            else
            {
                foreach (var (key, credential) in credentials)
                    result.CredentialInfos.Add(new() { Mechanism = (sbyte)key.Mechanism, Iterations = credential.Iterations });
            }
            response.Results.Add(result);
        }
        return ValueTask.FromResult<DescribeUserScramCredentialsResponse?>(response);
    }
}

using Microsoft.Extensions.Logging;
using Samsa.Protocol;

namespace Samsa.Metadata;

/// <summary>SCRAM credential administration, with the validation rules of Kafka's ScramControlManager.</summary>
public sealed partial class Controller
{
    /// <summary>
    /// Applies deletions and upsertions atomically (one metadata batch) and answers per user. A user named twice in one
    /// request (in any mix of deletions and upsertions) fails with DUPLICATE_RESOURCE, as in Kafka; deleting a credential
    /// that does not exist is RESOURCE_NOT_FOUND; iterations outside [4096, 16384] are UNACCEPTABLE_CREDENTIAL. The
    /// salted password is turned into StoredKey/ServerKey here and dropped.
    /// </summary>
    public async Task<IReadOnlyList<ScramAlterationResult>> AlterUserScramCredentialsAsync(
        IReadOnlyList<ScramDeletion> deletions, IReadOnlyList<ScramUpsertion> upsertions, CancellationToken ct = default)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var image = log.Image;
            var errors = new Dictionary<string, ErrorCodeAndMessage>(StringComparer.Ordinal);
            var toDelete = new Dictionary<string, ScramDeletion>(StringComparer.Ordinal);
            var toUpsert = new Dictionary<string, ScramUpsertion>(StringComparer.Ordinal);
            var duplicate = new ErrorCodeAndMessage(ErrorCode.DuplicateResource, "A user credential cannot be altered twice in the same request");
            foreach (var deletion in deletions)
            {
                if (errors.ContainsKey(deletion.Name)) continue;
                if (toDelete.Remove(deletion.Name))
                {
                    errors[deletion.Name] = duplicate;
                    continue;
                }
                var error = ValidateUser(deletion.Name, deletion.Mechanism);
                if (error is null && !image.ScramCredentials.ContainsKey((deletion.Name, ScramMechanisms.FromCode(deletion.Mechanism))))
                    error = new(ErrorCode.ResourceNotFound, "Attempt to delete a user credential that does not exist");
                if (error is { } e) errors[deletion.Name] = e;
                else toDelete[deletion.Name] = deletion;
            }
            foreach (var upsertion in upsertions)
            {
                if (errors.ContainsKey(upsertion.Name)) continue;
                if (toDelete.Remove(upsertion.Name) | toUpsert.Remove(upsertion.Name))
                {
                    errors[upsertion.Name] = duplicate;
                    continue;
                }
                var error = ValidateUser(upsertion.Name, upsertion.Mechanism);
                if (error is null && upsertion.Iterations < ScramMechanisms.MinIterations)
                    error = new(ErrorCode.UnacceptableCredential, "Too few iterations");
                else if (error is null && upsertion.Iterations > ScramMechanisms.MaxIterations)
                    error = new(ErrorCode.UnacceptableCredential, "Too many iterations");
                else if (error is null && (upsertion.Salt.Length == 0 || upsertion.SaltedPassword.Length == 0))
                    error = new(ErrorCode.UnacceptableCredential, "Salt and salted password must not be empty");
                if (error is { } e) errors[upsertion.Name] = e;
                else toUpsert[upsertion.Name] = upsertion;
            }

            var records = new List<MetadataRecord>();
            var results = new List<ScramAlterationResult>();
            foreach (var d in toDelete.Values)
            {
                records.Add(new RemoveUserScramCredentialRecord(d.Name, ScramMechanisms.FromCode(d.Mechanism)));
                results.Add(new(d.Name, new(ErrorCode.None, null)));
            }
            foreach (var u in toUpsert.Values)
            {
                var mechanism = ScramMechanisms.FromCode(u.Mechanism);
                records.Add(new UserScramCredentialRecord(u.Name, mechanism, u.Salt,
                    mechanism.StoredKey(u.SaltedPassword), mechanism.ServerKey(u.SaltedPassword), u.Iterations));
                results.Add(new(u.Name, new(ErrorCode.None, null)));
            }
            foreach (var (user, error) in errors) results.Add(new(user, error));
            if (records.Count > 0)
            {
                await log.AppendAsync(records, image.Offset, ct).ConfigureAwait(false);
                logger.LogInformation("SCRAM credentials altered: {Changes}", string.Join(", ",
                    toDelete.Values.Select(d => $"removed {d.Name} ({ScramMechanisms.FromCode(d.Mechanism).Name()})")
                        .Concat(toUpsert.Values.Select(u => $"set {u.Name} ({ScramMechanisms.FromCode(u.Mechanism).Name()}, {u.Iterations} iterations)"))));
            }
            return results;
        }
        finally
        {
            _lock.Release();
        }
    }

    private static ErrorCodeAndMessage? ValidateUser(string name, sbyte mechanism)
    {
        if (name.Length == 0) return new(ErrorCode.UnacceptableCredential, "Username must not be empty");
        if (ScramMechanisms.FromCode(mechanism) == ScramMechanism.Unknown) return new(ErrorCode.UnsupportedSaslMechanism, "Unknown SCRAM mechanism");
        return null;
    }
}

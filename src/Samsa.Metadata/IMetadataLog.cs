namespace Samsa.Metadata;

/// <summary>
/// The replicated (or, on a single node, local) log of metadata record batches. Appends are atomic per batch and
/// durable when the returned task completes; <see cref="Image"/> then reflects the batch.
/// The cluster implementation replaces the local file with a Raft quorum behind this same interface.
/// </summary>
public interface IMetadataLog : IAsyncDisposable
{
    MetadataImage Image { get; }

    /// <summary>Raised (synchronously, after <see cref="Image"/> is updated) for each applied batch.</summary>
    event Action<MetadataImage, IReadOnlyList<MetadataRecord>>? Applied;

    ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends <paramref name="batch"/> only if the log is still at <paramref name="expectedOffset"/> (the image the
    /// caller validated against); otherwise throws <see cref="MetadataConflictException"/> once this node has caught up,
    /// and the caller re-validates and retries. A single-node log serializes every write, so it never conflicts.
    /// </summary>
    ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, long expectedOffset, CancellationToken cancellationToken = default) =>
        AppendAsync(batch, cancellationToken);

    /// <summary>Node id of the active controller, or null when this log has no quorum (single node: this node).</summary>
    int? ControllerId => null;
}

/// <summary>The metadata log moved on between validation and append; re-read the image and retry the operation.</summary>
public sealed class MetadataConflictException(long expected, long actual)
    : Exception($"Metadata changed concurrently (validated at offset {expected}, log at {actual}); retry.")
{
    public long Expected { get; } = expected;
    public long Actual { get; } = actual;
}

/// <summary>No active controller could be reached to take a metadata write (election in progress, quorum lost).</summary>
public sealed class NotControllerException(string message, Exception? inner = null) : Exception(message, inner);

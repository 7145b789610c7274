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
}

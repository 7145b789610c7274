using Samsa.Metadata;

namespace Samsa.Broker.Tests.Replication;

/// <summary>
/// A metadata log shared by several in-process nodes (test only): appends are serialized and applied to one image, and
/// every subscriber is told synchronously, like <see cref="LocalMetadataLog"/>. It stands in for the Raft quorum so
/// replication can be tested on its own; it is not durable and not replicated.
/// </summary>
internal sealed class InMemoryMetadataLog : IMetadataLog
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private volatile MetadataImage _image = MetadataImage.Empty;

    public MetadataImage Image => _image;

    public event Action<MetadataImage, IReadOnlyList<MetadataRecord>>? Applied;

    public async ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0) return;
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var next = _image.Apply(batch);
            _image = next;
            if (Applied is not { } applied) return;
            foreach (var subscriber in applied.GetInvocationList().Cast<Action<MetadataImage, IReadOnlyList<MetadataRecord>>>())
                subscriber(next, batch);
        }
        finally
        {
            _lock.Release();
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

using Samsa.Metadata;

namespace Samsa.Broker.Tests.Security;

/// <summary>A metadata log holding its image in memory, for unit tests of components that read the image.</summary>
internal sealed class MemoryMetadataLog(MetadataImage image) : IMetadataLog
{
    public MetadataImage Image { get; set; } = image;

    public event Action<MetadataImage, IReadOnlyList<MetadataRecord>>? Applied;

    public ValueTask AppendAsync(IReadOnlyList<MetadataRecord> batch, CancellationToken cancellationToken = default)
    {
        Image = Image.Apply(batch);
        Applied?.Invoke(Image, batch);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace Samsa.Metadata.Quorum;

/// <summary>
/// DotNext's in-memory state machine holding the <see cref="MetadataImage"/>: each committed Raft entry is one metadata
/// batch (UTF-8 JSON array of records); no-op and configuration entries carry no batch and do not move the image
/// offset. After <c>snapshotBytes</c> of batches DotNext persists a snapshot (the image as records); a node that restarts
/// restores it and replays the tail; a follower too far behind receives it through Raft's InstallSnapshot and
/// <see cref="RestoreAsync(FileInfo, CancellationToken)"/> replaces its whole image.
/// DotNext never calls ApplyAsync concurrently; <see cref="Image"/> is an immutable snapshot read without locks.
/// </summary>
internal sealed class MetadataStateMachine(DirectoryInfo location, long snapshotBytes, Action<MetadataImage, IReadOnlyList<MetadataRecord>> applied)
    : SimpleStateMachine(location)
{
    private volatile MetadataImage _image = MetadataImage.Empty;
    private long _bytesSinceSnapshot;

    public MetadataImage Image => _image;

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        if (entry.IsConfiguration || entry.Length is 0 || !entry.TryGetPayload(out var payload) || payload.IsEmpty)
            return new(false);
        var batch = MetadataSnapshot.DeserializeBatch(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray());
        var next = _image.Apply(batch);
        _image = next;
        applied(next, batch);
        _bytesSinceSnapshot += entry.Length ?? payload.Length;
        if (_bytesSinceSnapshot < snapshotBytes) return new(false);
        _bytesSinceSnapshot = 0;
        return new(true);
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token) =>
        writer.Invoke(MetadataSnapshot.Of(_image).Serialize(), token);

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var bytes = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        var snapshot = MetadataSnapshot.Deserialize(bytes);
        var image = snapshot.ToImage();
        _image = image;
        applied(image, snapshot.Records);
    }
}

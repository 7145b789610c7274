using System.Buffers.Text;

namespace Samsa.Storage;

/// <summary>
/// Kafka's "partition.metadata": "version: 0" and "topic_id: &lt;id&gt;" lines, the id in Kafka's URL-safe base64
/// without padding (22 characters) of the 16 UUID bytes, most significant first.
/// </summary>
public static class PartitionMetadataFile
{
    public static void Write(string partitionDir, Guid topicId)
    {
        string id = Base64Url.EncodeToString(topicId.ToByteArray(bigEndian: true));
        DurableFile.WriteAtomically(Path.Combine(partitionDir, FileNames.PartitionMetadataFile), $"version: 0\ntopic_id: {id}\n");
    }

    public static Guid? Read(string partitionDir)
    {
        string path = Path.Combine(partitionDir, FileNames.PartitionMetadataFile);
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadAllLines(path))
        {
            if (!line.StartsWith("topic_id:", StringComparison.Ordinal)) continue;
            var bytes = Base64Url.DecodeFromChars(line["topic_id:".Length..].Trim());
            return bytes.Length == 16 ? new Guid(bytes, bigEndian: true) : null;
        }
        return null;
    }
}

using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Samsa.Broker.Configuration;

/// <summary>
/// <c>meta.properties</c> in each log dir, as Kafka's storage tool writes it (version=1, KRaft): cluster.id, node.id
/// and a per-directory directory.id. The cluster id is created once, on the first start, and every later start must
/// find the same cluster id and node id in every dir that has the file — a dir from another cluster or node is refused
/// rather than silently mixed in.
/// </summary>
public sealed record MetaProperties(string ClusterId, int NodeId, string DirectoryId)
{
    public const string FileName = "meta.properties";

    /// <summary>A Kafka-style Uuid string: 16 random bytes, base64url without padding (22 characters).</summary>
    public static string NewUuid()
    {
        // Like Kafka's Uuid.randomUuid: never starts with '-', which a command line would take for an option.
        Span<byte> bytes = stackalloc byte[16];
        string id;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            id = Base64Url.EncodeToString(bytes);
        }
        while (id[0] == '-');

        return id;
    }

    public static MetaProperties? Read(string logDir)
    {
        var path = Path.Combine(logDir, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var values = JavaProperties.ParseFile(path);
        if (!values.TryGetValue("cluster.id", out var clusterId) || clusterId.Length == 0)
        {
            throw new ConfigException($"{path} has no cluster.id; fix or delete the file");
        }

        if (!values.TryGetValue("node.id", out var nodeIdText)
            || !int.TryParse(nodeIdText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var nodeId))
        {
            throw new ConfigException($"{path} has no valid node.id; fix or delete the file");
        }

        values.TryGetValue("directory.id", out var directoryId);
        return new MetaProperties(clusterId, nodeId, directoryId ?? string.Empty);
    }

    public void Write(string logDir)
    {
        Directory.CreateDirectory(logDir);
        var path = Path.Combine(logDir, FileName);
        var tmp = path + ".tmp";
        var text = new StringBuilder()
            .Append("#\n#").Append(DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture)).Append('\n')
            .Append("cluster.id=").Append(ClusterId).Append('\n')
            .Append("directory.id=").Append(DirectoryId).Append('\n')
            .Append("node.id=").Append(NodeId.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("version=1\n")
            .ToString();
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>
    /// Reads meta.properties from every log dir, checks they agree with each other and with the configuration, writes
    /// the file where it is missing and returns the cluster id.
    /// </summary>
    internal static string Ensure(IReadOnlyList<string> logDirs, int nodeId, string? configuredClusterId)
    {
        string? clusterId = configuredClusterId;
        string? clusterIdSource = configuredClusterId is null ? null : "cluster.id";
        var missing = new List<string>();
        foreach (var dir in logDirs)
        {
            MetaProperties? meta;
            try
            {
                meta = Read(dir);
            }
            catch (IOException e)
            {
                throw new ConfigException($"Cannot read {Path.Combine(dir, FileName)}: {e.Message}", e);
            }

            if (meta is null)
            {
                missing.Add(dir);
                continue;
            }

            var path = Path.Combine(dir, FileName);
            if (meta.NodeId != nodeId)
            {
                throw new ConfigException(
                    $"Stored node id {meta.NodeId} in {path} doesn't match node.id {nodeId}; " +
                    "use the original node.id or another log dir") { Name = "node.id" };
            }

            if (clusterId is not null && meta.ClusterId != clusterId)
            {
                throw new ConfigException(
                    $"Cluster id {meta.ClusterId} in {path} doesn't match {clusterId} from {clusterIdSource}; " +
                    "this directory belongs to another cluster") { Name = "cluster.id" };
            }

            clusterId = meta.ClusterId;
            clusterIdSource = path;
        }

        clusterId ??= NewUuid();
        foreach (var dir in missing)
        {
            try
            {
                new MetaProperties(clusterId, nodeId, NewUuid()).Write(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ConfigException($"Cannot write {Path.Combine(dir, FileName)}: {e.Message}", e) { Name = "log.dirs" };
            }
        }

        return clusterId;
    }
}

using System.Globalization;

namespace Samsa.Storage;

/// <summary>
/// The cleaner's progress for one partition: the first dirty offset (everything below it has been cleaned at least
/// once). Kafka keeps one "cleaner-offset-checkpoint" per log dir; Samsa keeps it per partition directory, like its
/// log start offset, in Kafka's checkpoint text format ("0", entry count, "topic partition offset"), written atomically.
/// </summary>
internal static class CleanerCheckpoint
{
    public const string FileName = "cleaner-offset-checkpoint";

    /// <summary>The checkpointed first dirty offset, or null when there is none (the log was never cleaned).</summary>
    public static long? Read(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var lines = File.ReadAllLines(path);
            if (lines.Length < 3 || lines[0].Trim() != "0") return null;
            var parts = lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length > 0 && long.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    public static void Write(string dir, string topic, int partition, long firstDirtyOffset) =>
        DurableFile.WriteAtomically(Path.Combine(dir, FileName),
            string.Create(CultureInfo.InvariantCulture, $"0\n1\n{topic} {partition} {firstDirtyOffset}\n"));
}

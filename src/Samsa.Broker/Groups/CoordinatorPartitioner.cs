namespace Samsa.Broker.Groups;

/// <summary>
/// Maps a group id to its __consumer_offsets partition exactly as Kafka does:
/// <c>Utils.abs(groupId.hashCode()) % numPartitions</c>, with Java's String.hashCode over UTF-16 code units
/// (int overflow wraps) and Kafka's abs (<c>x &amp; 0x7fffffff</c>, so Integer.MIN_VALUE maps to 0).
/// A Java client or tool computing the coordinator partition agrees with Samsa.
/// </summary>
public static class CoordinatorPartitioner
{
    public static int JavaHashCode(string value)
    {
        int h = 0;
        foreach (char c in value) h = unchecked(31 * h + c);
        return h;
    }

    public static int PartitionFor(string groupId, int numPartitions) => (JavaHashCode(groupId) & 0x7fffffff) % numPartitions;
}

using System.Net;
using System.Text;
using DotNext.Buffers;
using DotNext.Net.Cluster.Consensus.Raft.Membership;

namespace Samsa.Metadata.Quorum;

/// <summary>
/// DotNext's in-memory Raft membership for the static voter set of <c>controller.quorum.voters</c>. Addresses are
/// encoded as a length byte followed by "ip:port" in UTF-8 (DotNext stores them in configuration log entries).
/// </summary>
internal sealed class VoterConfigurationStorage : InMemoryClusterConfigurationStorage<EndPoint>
{
    protected override void Encode(EndPoint address, ref BufferWriterSlim<byte> output)
    {
        var bytes = Encoding.UTF8.GetBytes(address.ToString() ?? "");
        output.Add(checked((byte)bytes.Length));
        output.Write(bytes);
    }

    protected override EndPoint Decode(ref SequenceReader reader)
    {
        int length = reader.ReadByte();
        Span<byte> buffer = stackalloc byte[length];
        reader.Read(buffer);
        return IPEndPoint.Parse(Encoding.UTF8.GetString(buffer));
    }
}

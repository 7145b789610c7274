using System.Buffers;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Broker.Groups;

/// <summary>
/// One record of a coordinator topic: key bytes and value bytes (null = tombstone). On replay, <see cref="ProducerId"/> is
/// the producer of a transactional batch (else -1) and <see cref="Marker"/> is set for an end-transaction marker
/// (true = COMMIT, false = ABORT; the key is then empty).
/// </summary>
public readonly record struct CoordinatorRecord(byte[] Key, byte[]? Value)
{
    public long ProducerId { get; init; } = -1;
    public bool? Marker { get; init; }
}

/// <summary>
/// Encodes and decodes __consumer_offsets records in Kafka's format: an int16 version, then the schema body.
/// Keys: version 0/1 = OffsetCommitKey (Samsa writes 1), version 2 = GroupMetadataKey.
/// Values: OffsetCommitValue v3 (v1 when an explicit expire timestamp is set, as Kafka does for v2-4 commits
/// with retention), GroupMetadataValue v3. Unknown key versions (e.g. KIP-848 records written by a newer
/// coordinator) are skipped by the loader, never fatal.
/// </summary>
public static class GroupRecordSerde
{
    public const short OffsetCommitKeyVersion = 1;
    public const short GroupMetadataKeyVersion = 2;
    private const short OffsetValueVersion = 3;
    private const short OffsetValueWithExpireVersion = 1;
    private const short GroupValueVersion = 3;

    public static CoordinatorRecord OffsetCommit(string group, string topic, int partition, CommittedOffset? offset) =>
        new(Encode(OffsetCommitKeyVersion, 0, new OffsetCommitKey { Group = group, Topic = topic, Partition = partition }),
            offset is null ? null : Encode(offset.ExpireTimestamp >= 0 ? OffsetValueWithExpireVersion : OffsetValueVersion, null, new OffsetCommitValue
            {
                Offset = offset.Offset,
                LeaderEpoch = offset.LeaderEpoch,
                Metadata = offset.Metadata,
                CommitTimestamp = offset.CommitTimestamp,
                ExpireTimestamp = offset.ExpireTimestamp,
            }));

    public static CoordinatorRecord GroupMetadata(string group, GroupMetadataValue? value) =>
        new(Encode(GroupMetadataKeyVersion, 0, new GroupMetadataKey { Group = group }),
            value is null ? null : Encode(GroupValueVersion, null, value));

    /// <summary>Decodes a key: an OffsetCommitKey, a GroupMetadataKey, or null for a record type Samsa does not know.</summary>
    public static object? DecodeKey(ReadOnlyMemory<byte> key)
    {
        var reader = new KafkaReader(key);
        short version = reader.ReadInt16();
        return version switch
        {
            0 or 1 => MessageCodec.Read<OffsetCommitKey>(reader, 0),
            2 => MessageCodec.Read<GroupMetadataKey>(reader, 0),
            _ => null,
        };
    }

    public static CommittedOffset DecodeOffsetValue(ReadOnlyMemory<byte> value)
    {
        var reader = new KafkaReader(value);
        short version = Math.Min(reader.ReadInt16(), (short)4);
        var v = MessageCodec.Read<OffsetCommitValue>(reader, version);
        return new CommittedOffset(v.Offset, v.LeaderEpoch, v.Metadata, v.CommitTimestamp, version == 1 ? v.ExpireTimestamp : -1);
    }

    public static GroupMetadataValue DecodeGroupValue(ReadOnlyMemory<byte> value)
    {
        var reader = new KafkaReader(value);
        short version = Math.Min(reader.ReadInt16(), (short)4);
        return MessageCodec.Read<GroupMetadataValue>(reader, version);
    }

    private static byte[] Encode<T>(short prefix, short? codecVersion, T body) where T : class
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var writer = new KafkaWriter(buffer);
        writer.WriteInt16(prefix);
        MessageCodec.Write(writer, body, codecVersion ?? prefix);
        return buffer.WrittenSpan.ToArray();
    }
}

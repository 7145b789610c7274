namespace Samsa.Broker.Groups;

/// <summary>
/// What the coordinator's group registry knows of any group, whatever its protocol: the classic protocol
/// (<see cref="ClassicGroup"/>) today, the KIP-848 consumer protocol next. ListGroups and DescribeGroups read this;
/// committed offsets live beside groups in <see cref="OffsetStore"/>, independent of the protocol.
/// </summary>
public interface IGroup
{
    string GroupId { get; }

    /// <summary>"classic" or "consumer" (ListGroups v5 types filter).</summary>
    string GroupType { get; }

    /// <summary>The state name Kafka reports (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead, …).</summary>
    string StateName { get; }

    string ProtocolType { get; }

    /// <summary>No members: the group may be deleted and its offsets may expire.</summary>
    bool IsEmpty { get; }

    /// <summary>Whether any member subscribes to <paramref name="topic"/> (OffsetDelete, offset expiry).</summary>
    bool IsSubscribedTo(string topic);
}

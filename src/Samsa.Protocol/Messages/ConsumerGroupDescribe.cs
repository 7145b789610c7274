using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.ConsumerGroupDescribe, MessageKind.Request, "0", "0+")]
public sealed class ConsumerGroupDescribeRequest
{
    [Field("0+")] public List<string> GroupIds { get; set; } = [];
    [Field("0+")] public bool IncludeAuthorizedOperations { get; set; }
}

[ApiMessage(ApiKey.ConsumerGroupDescribe, MessageKind.Response, "0", "0+")]
public sealed class ConsumerGroupDescribeResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<DescribedGroup> Groups { get; set; } = [];

    public sealed class DescribedGroup
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; }
        [Field("0+")] public string GroupId { get; set; } = "";
        [Field("0+")] public string GroupState { get; set; } = "";
        [Field("0+")] public int GroupEpoch { get; set; }
        [Field("0+")] public int AssignmentEpoch { get; set; }
        [Field("0+")] public string AssignorName { get; set; } = "";
        [Field("0+")] public List<Member> Members { get; set; } = [];
        [Field("0+")] public int AuthorizedOperations { get; set; } = int.MinValue;
    }

    public sealed class Member
    {
        [Field("0+")] public string MemberId { get; set; } = "";
        [Field("0+", NullableVersions = "0+")] public string? InstanceId { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? RackId { get; set; }
        [Field("0+")] public int MemberEpoch { get; set; }
        [Field("0+")] public string ClientId { get; set; } = "";
        [Field("0+")] public string ClientHost { get; set; } = "";
        [Field("0+")] public List<string> SubscribedTopicNames { get; set; } = [];
        [Field("0+", NullableVersions = "0+")] public string? SubscribedTopicRegex { get; set; }
        [Field("0+")] public Assignment Assignment { get; set; } = new();
        [Field("0+")] public Assignment TargetAssignment { get; set; } = new();
    }

    public sealed class TopicPartitions
    {
        [Field("0+")] public Guid TopicId { get; set; }
        [Field("0+")] public string TopicName { get; set; } = "";
        [Field("0+")] public List<int> Partitions { get; set; } = [];
    }

    public sealed class Assignment
    {
        [Field("0+")] public List<TopicPartitions> TopicPartitions { get; set; } = [];
    }
}

using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.AddPartitionsToTxn, MessageKind.Request, "0-5", "3+")]
public sealed class AddPartitionsToTxnRequest
{
    [Field("4+")] public List<AddPartitionsToTxnTransaction> Transactions { get; set; } = [];
    [Field("0-3")] public string V3AndBelowTransactionalId { get; set; } = "";
    [Field("0-3")] public long V3AndBelowProducerId { get; set; }
    [Field("0-3")] public short V3AndBelowProducerEpoch { get; set; }
    [Field("0-3")] public List<AddPartitionsToTxnTopic> V3AndBelowTopics { get; set; } = [];

    public sealed class AddPartitionsToTxnTransaction
    {
        [Field("4+")] public string TransactionalId { get; set; } = "";
        [Field("4+")] public long ProducerId { get; set; }
        [Field("4+")] public short ProducerEpoch { get; set; }
        [Field("4+")] public bool VerifyOnly { get; set; }
        [Field("4+")] public List<AddPartitionsToTxnTopic> Topics { get; set; } = [];
    }

    public sealed class AddPartitionsToTxnTopic
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<int> Partitions { get; set; } = [];
    }
}

[ApiMessage(ApiKey.AddPartitionsToTxn, MessageKind.Response, "0-5", "3+")]
public sealed class AddPartitionsToTxnResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("4+", Ignorable = true)] public short ErrorCode { get; set; }
    [Field("4+")] public List<AddPartitionsToTxnResult> ResultsByTransaction { get; set; } = [];
    [Field("0-3")] public List<AddPartitionsToTxnTopicResult> ResultsByTopicV3AndBelow { get; set; } = [];

    public sealed class AddPartitionsToTxnResult
    {
        [Field("4+")] public string TransactionalId { get; set; } = "";
        [Field("4+")] public List<AddPartitionsToTxnTopicResult> TopicResults { get; set; } = [];
    }

    public sealed class AddPartitionsToTxnTopicResult
    {
        [Field("0+")] public string Name { get; set; } = "";
        [Field("0+")] public List<AddPartitionsToTxnPartitionResult> ResultsByPartition { get; set; } = [];
    }

    public sealed class AddPartitionsToTxnPartitionResult
    {
        [Field("0+")] public int PartitionIndex { get; set; }
        [Field("0+")] public short PartitionErrorCode { get; set; }
    }
}

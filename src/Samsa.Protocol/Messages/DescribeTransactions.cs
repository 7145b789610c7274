using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeTransactions, MessageKind.Request, "0", "0+")]
public sealed class DescribeTransactionsRequest
{
    [Field("0+")] public List<string> TransactionalIds { get; set; } = [];
}

[ApiMessage(ApiKey.DescribeTransactions, MessageKind.Response, "0", "0+")]
public sealed class DescribeTransactionsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<TransactionState> TransactionStates { get; set; } = [];

    public sealed class TransactionState
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+")] public string TransactionalId { get; set; } = "";
        [Field("0+", Name = "TransactionState")] public string State { get; set; } = "";
        [Field("0+")] public int TransactionTimeoutMs { get; set; }
        [Field("0+")] public long TransactionStartTimeMs { get; set; }
        [Field("0+")] public long ProducerId { get; set; }
        [Field("0+")] public short ProducerEpoch { get; set; }
        [Field("0+")] public List<TopicData> Topics { get; set; } = [];
    }

    public sealed class TopicData
    {
        [Field("0+")] public string Topic { get; set; } = "";
        [Field("0+")] public List<int> Partitions { get; set; } = [];
    }
}

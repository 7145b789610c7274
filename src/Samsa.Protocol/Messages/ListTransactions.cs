using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.ListTransactions, MessageKind.Request, "0-1", "0+")]
public sealed class ListTransactionsRequest
{
    [Field("0+")] public List<string> StateFilters { get; set; } = [];
    [Field("0+")] public List<long> ProducerIdFilters { get; set; } = [];
    [Field("1+")] public long DurationFilter { get; set; } = -1;
}

[ApiMessage(ApiKey.ListTransactions, MessageKind.Response, "0-1", "0+")]
public sealed class ListTransactionsResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+")] public List<string> UnknownStateFilters { get; set; } = [];
    [Field("0+")] public List<TransactionState> TransactionStates { get; set; } = [];

    public sealed class TransactionState
    {
        [Field("0+")] public string TransactionalId { get; set; } = "";
        [Field("0+")] public long ProducerId { get; set; }
        [Field("0+", Name = "TransactionState")] public string State { get; set; } = "";
    }
}

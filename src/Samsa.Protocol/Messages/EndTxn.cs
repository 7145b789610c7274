using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.EndTxn, MessageKind.Request, "0-5", "3+")]
public sealed class EndTxnRequest
{
    [Field("0+")] public string TransactionalId { get; set; } = "";
    [Field("0+")] public long ProducerId { get; set; }
    [Field("0+")] public short ProducerEpoch { get; set; }
    [Field("0+")] public bool Committed { get; set; }
}

[ApiMessage(ApiKey.EndTxn, MessageKind.Response, "0-5", "3+")]
public sealed class EndTxnResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("5+", Ignorable = true)] public long ProducerId { get; set; } = -1;
    [Field("5+", Ignorable = true)] public short ProducerEpoch { get; set; } = -1;
}

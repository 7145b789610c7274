using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.AddOffsetsToTxn, MessageKind.Request, "0-4", "3+")]
public sealed class AddOffsetsToTxnRequest
{
    [Field("0+")] public string TransactionalId { get; set; } = "";
    [Field("0+")] public long ProducerId { get; set; }
    [Field("0+")] public short ProducerEpoch { get; set; }
    [Field("0+")] public string GroupId { get; set; } = "";
}

[ApiMessage(ApiKey.AddOffsetsToTxn, MessageKind.Response, "0-4", "3+")]
public sealed class AddOffsetsToTxnResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
}

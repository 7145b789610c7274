using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.InitProducerId, MessageKind.Request, "0-5", "2+")]
public sealed class InitProducerIdRequest
{
    [Field("0+", NullableVersions = "0+")] public string? TransactionalId { get; set; } = "";
    [Field("0+")] public int TransactionTimeoutMs { get; set; }
    [Field("3+")] public long ProducerId { get; set; } = -1;
    [Field("3+")] public short ProducerEpoch { get; set; } = -1;
}

[ApiMessage(ApiKey.InitProducerId, MessageKind.Response, "0-5", "2+")]
public sealed class InitProducerIdResponse
{
    [Field("0+", Ignorable = true)] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+")] public long ProducerId { get; set; } = -1;
    [Field("0+")] public short ProducerEpoch { get; set; }
}

using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Messages;

[ApiMessage(ApiKey.DescribeClientQuotas, MessageKind.Request, "0-1", "1+")]
public sealed class DescribeClientQuotasRequest
{
    [Field("0+")] public List<ComponentData> Components { get; set; } = [];
    [Field("0+")] public bool Strict { get; set; }

    public sealed class ComponentData
    {
        [Field("0+")] public string EntityType { get; set; } = "";

        /// <summary>0 = exact name, 1 = default name, 2 = any specified name.</summary>
        [Field("0+")] public sbyte MatchType { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? Match { get; set; } = "";
    }
}

[ApiMessage(ApiKey.DescribeClientQuotas, MessageKind.Response, "0-1", "1+")]
public sealed class DescribeClientQuotasResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public short ErrorCode { get; set; }
    [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
    [Field("0+", NullableVersions = "0+")] public List<EntryData>? Entries { get; set; } = [];

    public sealed class EntryData
    {
        [Field("0+")] public List<EntityData> Entity { get; set; } = [];
        [Field("0+")] public List<ValueData> Values { get; set; } = [];
    }

    public sealed class EntityData
    {
        [Field("0+")] public string EntityType { get; set; } = "";
        [Field("0+", NullableVersions = "0+")] public string? EntityName { get; set; } = "";
    }

    public sealed class ValueData
    {
        [Field("0+")] public string Key { get; set; } = "";
        [Field("0+")] public double Value { get; set; }
    }
}

[ApiMessage(ApiKey.AlterClientQuotas, MessageKind.Request, "0-1", "1+")]
public sealed class AlterClientQuotasRequest
{
    [Field("0+")] public List<EntryData> Entries { get; set; } = [];
    [Field("0+")] public bool ValidateOnly { get; set; }

    public sealed class EntryData
    {
        [Field("0+")] public List<EntityData> Entity { get; set; } = [];
        [Field("0+")] public List<OpData> Ops { get; set; } = [];
    }

    public sealed class EntityData
    {
        [Field("0+")] public string EntityType { get; set; } = "";
        [Field("0+", NullableVersions = "0+")] public string? EntityName { get; set; } = "";
    }

    public sealed class OpData
    {
        [Field("0+")] public string Key { get; set; } = "";
        [Field("0+")] public double Value { get; set; }
        [Field("0+")] public bool Remove { get; set; }
    }
}

[ApiMessage(ApiKey.AlterClientQuotas, MessageKind.Response, "0-1", "1+")]
public sealed class AlterClientQuotasResponse
{
    [Field("0+")] public int ThrottleTimeMs { get; set; }
    [Field("0+")] public List<EntryData> Entries { get; set; } = [];

    public sealed class EntryData
    {
        [Field("0+")] public short ErrorCode { get; set; }
        [Field("0+", NullableVersions = "0+")] public string? ErrorMessage { get; set; } = "";
        [Field("0+")] public List<EntityData> Entity { get; set; } = [];
    }

    public sealed class EntityData
    {
        [Field("0+")] public string EntityType { get; set; } = "";
        [Field("0+", NullableVersions = "0+")] public string? EntityName { get; set; } = "";
    }
}

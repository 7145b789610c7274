using System.Runtime.CompilerServices;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// Marks a class as the declarative definition of one Kafka request or response body.
/// The single table-driven codec (<see cref="MessageCodec"/>) reads and writes every version of it.
/// </summary>
/// <param name="apiKey">The API this message belongs to.</param>
/// <param name="kind">Request or response.</param>
/// <param name="validVersions">Every version of the schema (as in Kafka's JSON, e.g. "0-11").</param>
/// <param name="flexibleVersions">Versions using compact encodings and tagged fields (e.g. "9+", or "none").</param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ApiMessageAttribute(ApiKey apiKey, MessageKind kind, string validVersions, string flexibleVersions)
    : Attribute
{
    public ApiKey ApiKey { get; } = apiKey;
    public MessageKind Kind { get; } = kind;
    public VersionRange ValidVersions { get; } = VersionRange.Parse(validVersions);
    public VersionRange FlexibleVersions { get; } = VersionRange.Parse(flexibleVersions);
}

public enum MessageKind
{
    Request,
    Response,
    /// <summary>A standalone data schema (not a request or response), e.g. a consumer protocol subscription.</summary>
    Data,
}

/// <summary>
/// One field of a message or of a nested struct. Fields are encoded in declaration order
/// (the compiler passes the line number as <see cref="Order"/>; keep one field per line).
/// The wire type follows from the CLR type:
/// bool=bool, sbyte=int8, short=int16, ushort=uint16, int=int32, uint=uint32, long=int64, double=float64,
/// Guid=uuid, string=string, byte[]=bytes, <see cref="ReadOnlyMemory{T}"/> of byte (nullable)=records,
/// List&lt;T&gt;=array of T (T a primitive above or a nested struct class with [Field] members).
/// Defaults come from the property initialisers of a freshly constructed instance.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = false)]
public sealed class FieldAttribute(string versions, [CallerLineNumber] int order = 0) : Attribute
{
    /// <summary>Versions in which the field is present (e.g. "0+", "3-5").</summary>
    public VersionRange Versions { get; } = VersionRange.Parse(versions);

    public int Order { get; } = order;

    /// <summary>Versions in which the field may be null (strings, bytes, arrays, records, structs).</summary>
    public string NullableVersions { get; set; } = "none";

    /// <summary>Tag number for a tagged field, or -1 for a regular field.</summary>
    public int Tag { get; set; } = -1;

    /// <summary>Versions in which the field is tagged (only with <see cref="Tag"/>).</summary>
    public string TaggedVersions { get; set; } = "none";

    /// <summary>
    /// When true, a non-default value is silently dropped when writing a version that lacks the field;
    /// when false, that is an error (as Kafka's generated code does).
    /// </summary>
    public bool Ignorable { get; set; }

    /// <summary>Kafka's name for the field when it differs from the C# property name.</summary>
    public string? Name { get; set; }
}

namespace Samsa.Protocol;

/// <summary>
/// An inclusive range of message versions, written as in Kafka's schema files:
/// "none", "3", "0+", "3-5". <see cref="None"/> contains no version.
/// </summary>
public readonly record struct VersionRange(short Min, short Max)
{
    public static readonly VersionRange None = new(1, 0);
    public static readonly VersionRange All = new(0, short.MaxValue);

    public bool IsEmpty => Min > Max;

    public bool Contains(short version) => version >= Min && version <= Max;

    public static VersionRange Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text == "none") return None;
        text = text.Trim();
        if (text.EndsWith('+')) return new(short.Parse(text.AsSpan(0, text.Length - 1)), short.MaxValue);
        int dash = text.IndexOf('-');
        if (dash < 0)
        {
            short v = short.Parse(text);
            return new(v, v);
        }
        return new(short.Parse(text.AsSpan(0, dash)), short.Parse(text.AsSpan(dash + 1)));
    }

    public override string ToString() =>
        IsEmpty ? "none" : Max == short.MaxValue ? $"{Min}+" : Min == Max ? $"{Min}" : $"{Min}-{Max}";
}

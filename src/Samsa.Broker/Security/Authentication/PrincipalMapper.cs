using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// Kafka's <c>ssl.principal.mapping.rules</c>: rules tried in order against a client certificate's subject DN written
/// as RFC 2253 (Java's X500Principal.getName(): most specific RDN first, no spaces after commas, e.g.
/// <c>CN=alice,OU=eng,O=Example</c>). <c>RULE:pattern/replacement/</c> (optionally followed by L or U for lower or upper
/// case) applies when the pattern matches the whole DN; <c>DEFAULT</c> gives the DN itself. No applicable rule fails the
/// authentication, as in Kafka.
/// </summary>
internal sealed class PrincipalMapper
{
    // RULE:pattern/replacement/[LU] or DEFAULT, separated by commas or new lines; '\' escapes '/' and ',' in patterns.
    private static readonly Regex s_rule = new(@"\G\s*(?:RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?)|(DEFAULT))\s*(?:[,\n]\s*|$)",
        RegexOptions.CultureInvariant);

    private readonly List<(Regex? Pattern, string Replacement, char Case)> _rules;

    private PrincipalMapper(List<(Regex?, string, char)> rules) => _rules = rules;

    public static readonly PrincipalMapper Default = new([(null, "", ' ')]);

    public static PrincipalMapper Parse(string configName, string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return Default;
        var rules = new List<(Regex?, string, char)>();
        int position = 0;
        while (position < text.Length)
        {
            var match = s_rule.Match(text, position);
            if (!match.Success || match.Length == 0)
                throw ConfigException.InvalidValue(configName, text, "expected RULE:pattern/replacement/[LU] entries or DEFAULT, separated by commas");
            if (match.Groups[4].Success)
            {
                rules.Add((null, "", ' '));
            }
            else
            {
                Regex pattern;
                try
                {
                    pattern = new Regex("^(?:" + match.Groups[1].Value + ")$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
                }
                catch (ArgumentException e)
                {
                    throw ConfigException.InvalidValue(configName, text, $"invalid pattern: {e.Message}");
                }
                rules.Add((pattern, match.Groups[2].Value.Replace("\\/", "/"), match.Groups[3].Value is [var c] ? c : ' '));
            }
            position = match.Index + match.Length;
        }
        return new PrincipalMapper(rules);
    }

    /// <summary>The principal name for a DN, or null when no rule applies.</summary>
    public string? Map(string distinguishedName)
    {
        foreach (var (pattern, replacement, letterCase) in _rules)
        {
            if (pattern is null) return distinguishedName;
            string? result;
            try
            {
                result = pattern.IsMatch(distinguishedName) ? pattern.Replace(distinguishedName, replacement) : null;
            }
            catch (RegexMatchTimeoutException)
            {
                result = null;
            }
            if (result is null) continue;
            return letterCase switch
            {
                'L' => result.ToLowerInvariant(),
                'U' => result.ToUpperInvariant(),
                _ => result,
            };
        }
        return null;
    }

    /// <summary>The subject as RFC 2253 text, the form Kafka's DEFAULT rule yields.</summary>
    public static string Rfc2253(X500DistinguishedName name)
    {
        var parts = new List<string>();
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames(reversed: true))
        {
            if (rdn.HasMultipleElements)
            {
                // Rare in client certificates; .NET exposes no per-element access, fall back to its own formatting.
                var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
                using (writer.PushSequence()) writer.WriteEncodedValue(rdn.RawData.Span);
                parts.Add(new X500DistinguishedName(writer.Encode()).Decode(X500DistinguishedNameFlags.DoNotUseQuotes));
                continue;
            }
            var oid = rdn.GetSingleElementType();
            var value = rdn.GetSingleElementValue() ?? "";
            parts.Add($"{ShortName(oid.Value)}={Escape(value)}");
        }
        return string.Join(",", parts);
    }

    private static string ShortName(string? oid) => oid switch
    {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => oid ?? "",
    };

    private static string Escape(string value)
    {
        var sb = new StringBuilder(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            bool escape = c is ',' or '+' or '"' or '\\' or '<' or '>' or ';'
                || (i == 0 && c is '#' or ' ')
                || (i == value.Length - 1 && c == ' ');
            if (escape) sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}

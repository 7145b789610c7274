using System.Globalization;
using System.Text;

namespace Samsa.Broker.Configuration;

/// <summary>
/// Reader for Java <c>.properties</c> text, the format of Kafka's server.properties: comment lines start with
/// <c>#</c> or <c>!</c>; a key ends at the first unescaped <c>=</c>, <c>:</c> or whitespace; a line ending in an odd
/// number of backslashes continues on the next line (whose leading whitespace is dropped); <c>\t \n \r \f \uXXXX</c>
/// escapes are decoded and any other escaped character stands for itself. Unlike java.util.Properties, trailing
/// whitespace of values is trimmed, as Kafka trims values of every config type except passwords.
/// Later duplicates win, as in Java.
/// </summary>
public static class JavaProperties
{
    public static IReadOnlyDictionary<string, string> ParseFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"Cannot read properties file '{path}': {e.Message}", e);
        }

        return Parse(text);
    }

    public static IReadOnlyDictionary<string, string> Parse(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var logical in LogicalLines(text))
        {
            var (key, value) = SplitKeyValue(logical);
            if (key.Length > 0)
            {
                result[key] = value;
            }
        }

        return result;
    }

    /// <summary>Joins continued natural lines and drops blank and comment lines.</summary>
    private static IEnumerable<string> LogicalLines(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n', '\r');
        var current = new StringBuilder();
        var continuing = false;
        foreach (var raw in lines)
        {
            var line = raw.TrimStart(' ', '\t', '\f');
            if (!continuing && (line.Length == 0 || line[0] == '#' || line[0] == '!'))
            {
                continue;
            }

            if (EndsWithOddBackslashes(line))
            {
                current.Append(line, 0, line.Length - 1);
                continuing = true;
                continue;
            }

            current.Append(line);
            continuing = false;
            yield return current.ToString();
            current.Clear();
        }

        if (continuing && current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    private static bool EndsWithOddBackslashes(string line)
    {
        var count = 0;
        for (var i = line.Length - 1; i >= 0 && line[i] == '\\'; i--)
        {
            count++;
        }

        return count % 2 == 1;
    }

    private static (string Key, string Value) SplitKeyValue(string line)
    {
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (c == '\\')
            {
                i += 2;
                continue;
            }

            if (c is '=' or ':' or ' ' or '\t' or '\f')
            {
                break;
            }

            i++;
        }

        var keyEnd = Math.Min(i, line.Length);
        // Separator: optional whitespace, at most one '=' or ':', optional whitespace.
        while (i < line.Length && line[i] is ' ' or '\t' or '\f')
        {
            i++;
        }

        if (i < line.Length && line[i] is '=' or ':')
        {
            i++;
        }

        while (i < line.Length && line[i] is ' ' or '\t' or '\f')
        {
            i++;
        }

        var key = Unescape(line.AsSpan(0, keyEnd));
        var value = i < line.Length ? Unescape(line.AsSpan(i)).TrimEnd() : string.Empty;
        return (key, value);
    }

    private static string Unescape(ReadOnlySpan<char> s)
    {
        if (!s.Contains('\\'))
        {
            return s.ToString();
        }

        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c != '\\' || i == s.Length - 1)
            {
                sb.Append(c);
                continue;
            }

            var next = s[++i];
            switch (next)
            {
                case 't': sb.Append('\t'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 'f': sb.Append('\f'); break;
                case 'u' when i + 4 < s.Length
                    && ushort.TryParse(s.Slice(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                    sb.Append((char)code);
                    i += 4;
                    break;
                default: sb.Append(next); break;
            }
        }

        return sb.ToString();
    }
}

using System.Text;
using Samsa.Broker.Configuration;

namespace Samsa.Broker.Security.Authentication;

/// <summary>
/// One JAAS login module entry as Kafka's <c>sasl.jaas.config</c> holds it:
/// <c>org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="s" user_alice="a";</c>.
/// Only the options matter to Samsa: <c>username</c>/<c>password</c> are this broker's own credentials as a client
/// (inter-broker), and for PLAIN each <c>user_NAME="secret"</c> defines a user. Values never appear in error messages.
/// </summary>
internal sealed record JaasConfig(string LoginModule, IReadOnlyDictionary<string, string> Options)
{
    public const string PlainLoginModule = "org.apache.kafka.common.security.plain.PlainLoginModule";
    public const string ScramLoginModule = "org.apache.kafka.common.security.scram.ScramLoginModule";

    public string? Username => Options.GetValueOrDefault("username");
    public string? Password => Options.GetValueOrDefault("password");

    /// <summary>The user_NAME="secret" options of a PLAIN module: name → password.</summary>
    public IReadOnlyDictionary<string, string> PlainUsers() =>
        Options.Where(kv => kv.Key.StartsWith("user_", StringComparison.Ordinal) && kv.Key.Length > 5)
            .ToDictionary(kv => kv.Key[5..], kv => kv.Value, StringComparer.Ordinal);

    /// <summary>Parses a single-module JAAS entry; <paramref name="configName"/> names the key in errors.</summary>
    public static JaasConfig Parse(string configName, string text)
    {
        int i = 0;
        SkipSpace(text, ref i);
        string module = Word(text, ref i);
        if (module.Length == 0) throw Invalid(configName, "expected a login module class name");
        SkipSpace(text, ref i);
        string flag = Word(text, ref i);
        if (flag is not ("required" or "requisite" or "sufficient" or "optional"))
            throw Invalid(configName, $"expected a control flag (required) after {module}");
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            SkipSpace(text, ref i);
            if (i >= text.Length) throw Invalid(configName, "the entry must end with ';'");
            if (text[i] == ';')
            {
                i++;
                SkipSpace(text, ref i);
                if (i != text.Length) throw Invalid(configName, "exactly one login module entry is supported");
                return new JaasConfig(module, options);
            }
            string key = Word(text, ref i);
            SkipSpace(text, ref i);
            if (key.Length == 0 || i >= text.Length || text[i] != '=') throw Invalid(configName, $"expected name=\"value\" options after {flag}");
            i++;
            SkipSpace(text, ref i);
            options[key] = Value(configName, text, ref i, key);
        }
    }

    private static string Value(string configName, string text, ref int i, string key)
    {
        if (i < text.Length && text[i] == '"')
        {
            var value = new StringBuilder();
            for (i++; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '"')
                {
                    i++;
                    return value.ToString();
                }
                if (c == '\\' && i + 1 < text.Length) c = text[++i];
                value.Append(c);
            }
            throw Invalid(configName, $"unterminated quoted value of option {key}");
        }
        string word = Word(text, ref i);
        if (word.Length == 0) throw Invalid(configName, $"option {key} has no value");
        return word;
    }

    private static string Word(string text, ref int i)
    {
        int start = i;
        while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('=' or ';' or '"')) i++;
        return text[start..i];
    }

    private static void SkipSpace(string text, ref int i)
    {
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
    }

    // The raw text may hold passwords: the error names the key only.
    private static ConfigException Invalid(string configName, string reason) => ConfigException.InvalidValue(configName, "[hidden]", reason);
}

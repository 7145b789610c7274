using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Samsa.Protocol.Serialization;

namespace Samsa.Protocol.Tests;

/// <summary>
/// Checks every declarative message definition ([ApiMessage] class) against Kafka's JSON schema of the same
/// name in the reference copy (../shared/kafka-protocol, or $SAMSA_KAFKA_PROTOCOL_DIR). The schemas are not part
/// of the repository, so when they cannot be found the tests pass without checking anything.
/// </summary>
public sealed class SchemaCrossCheckTests
{
    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private static readonly Dictionary<string, Type> Primitives = new()
    {
        ["bool"] = typeof(bool),
        ["int8"] = typeof(sbyte),
        ["int16"] = typeof(short),
        ["uint16"] = typeof(ushort),
        ["int32"] = typeof(int),
        ["uint32"] = typeof(uint),
        ["int64"] = typeof(long),
        ["float64"] = typeof(double),
        ["uuid"] = typeof(Guid),
        ["string"] = typeof(string),
        ["bytes"] = typeof(byte[]),
        ["records"] = typeof(ReadOnlyMemory<byte>?),
    };

    [Fact]
    public void Definitions_match_kafka_schemas()
    {
        string? dir = FindSchemaDirectory();
        if (dir is null) return;

        var errors = new List<string>();
        int checkedCount = 0;
        foreach (var (type, attr) in Definitions())
        {
            string file = Path.Combine(dir, type.Name + ".json");
            if (!File.Exists(file)) continue;
            checkedCount++;
            using var doc = JsonDocument.Parse(File.ReadAllText(file), JsonOptions);
            new Checker(type.Name, doc.RootElement, errors).CheckMessage(type, attr);
        }

        Assert.True(checkedCount > 0, $"no [ApiMessage] definition has a schema in {dir}");
        Assert.True(errors.Count == 0, Report(errors));
    }

    [Fact]
    public void Definitions_cover_every_schema_field()
    {
        string? dir = FindSchemaDirectory();
        if (dir is null) return;

        var missing = new List<string>();
        foreach (var (type, _) in Definitions())
        {
            string file = Path.Combine(dir, type.Name + ".json");
            if (!File.Exists(file)) continue;
            using var doc = JsonDocument.Parse(File.ReadAllText(file), JsonOptions);
            var structs = StructRegistry(doc.RootElement);
            CollectMissing(type, doc.RootElement.GetProperty("fields"), structs, type.Name, missing, []);
        }

        Assert.True(missing.Count == 0, Report(missing));
    }

    private static string Report(List<string> errors) =>
        $"{errors.Count} mismatch(es) between definitions and Kafka schemas:{Environment.NewLine}" +
        string.Join(Environment.NewLine, errors);

    private static IEnumerable<(Type Type, ApiMessageAttribute Attr)> Definitions() =>
        typeof(ApiKey).Assembly.GetTypes()
            .Select(t => (Type: t, Attr: t.GetCustomAttribute<ApiMessageAttribute>()))
            .Where(x => x.Attr is not null)
            .OrderBy(x => x.Type.Name, StringComparer.Ordinal)
            .Select(x => (x.Type, x.Attr!));

    internal static string? FindSchemaDirectory()
    {
        string? env = Environment.GetEnvironmentVariable("SAMSA_KAFKA_PROTOCOL_DIR");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "shared", "kafka-protocol");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Every struct a schema defines, inline in a field or in "commonStructs", by type name.</summary>
    private static Dictionary<string, JsonElement> StructRegistry(JsonElement root)
    {
        var structs = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        void Collect(JsonElement fields)
        {
            foreach (var f in fields.EnumerateArray())
            {
                if (!f.TryGetProperty("fields", out var sub)) continue;
                structs[ElementTypeName(f.GetProperty("type").GetString()!)] = sub;
                Collect(sub);
            }
        }
        Collect(root.GetProperty("fields"));
        if (root.TryGetProperty("commonStructs", out var common))
        {
            foreach (var s in common.EnumerateArray())
            {
                structs[s.GetProperty("name").GetString()!] = s.GetProperty("fields");
                Collect(s.GetProperty("fields"));
            }
        }
        return structs;
    }

    private static string ElementTypeName(string type) => type.StartsWith("[]", StringComparison.Ordinal) ? type[2..] : type;

    private static List<(PropertyInfo Property, FieldAttribute Field)> FieldsOf(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Select(p => (Property: p, Field: p.GetCustomAttribute<FieldAttribute>()))
            .Where(x => x.Field is not null)
            .OrderBy(x => x.Field!.Order)
            .Select(x => (x.Property, x.Field!))
            .ToList();

    private static string KafkaName((PropertyInfo Property, FieldAttribute Field) f) => f.Field.Name ?? f.Property.Name;

    private static void CollectMissing(
        Type type, JsonElement fields, Dictionary<string, JsonElement> structs, string path, List<string> missing,
        HashSet<Type> visited)
    {
        if (!visited.Add(type)) return;
        var byName = FieldsOf(type).ToDictionary(KafkaName, StringComparer.Ordinal);
        foreach (var f in fields.EnumerateArray())
        {
            string name = f.GetProperty("name").GetString()!;
            if (!byName.TryGetValue(name, out var def))
            {
                missing.Add($"{path}.{name}: missing from the definition");
                continue;
            }
            string elem = ElementTypeName(f.GetProperty("type").GetString()!);
            if (Primitives.ContainsKey(elem)) continue;
            var sub = f.TryGetProperty("fields", out var inline) ? inline : structs.GetValueOrDefault(elem);
            Type? clr = StructClrType(def.Property.PropertyType);
            if (clr is not null && sub.ValueKind == JsonValueKind.Array)
                CollectMissing(clr, sub, structs, $"{path}.{name}", missing, visited);
        }
    }

    private static Type? StructClrType(Type t)
    {
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>)) t = t.GetGenericArguments()[0];
        return t.IsClass && t != typeof(string) && t != typeof(byte[]) ? t : null;
    }

    private sealed class Checker(string message, JsonElement root, List<string> errors)
    {
        private readonly Dictionary<string, JsonElement> _structs = StructRegistry(root);
        private readonly NullabilityInfoContext _nullability = new();
        private readonly HashSet<(Type, string)> _visited = [];

        public void CheckMessage(Type type, ApiMessageAttribute attr)
        {
            string kind = root.GetProperty("type").GetString()!;
            var expectedKind = kind switch
            {
                "request" => MessageKind.Request,
                "response" => MessageKind.Response,
                _ => MessageKind.Data,
            };
            if (attr.Kind != expectedKind) Error(message, $"kind {attr.Kind}, schema type \"{kind}\"");

            var expectedKey = root.TryGetProperty("apiKey", out var key) ? (ApiKey)key.GetInt16() : (ApiKey)(-1);
            if (attr.ApiKey != expectedKey) Error(message, $"apiKey {(short)attr.ApiKey}, schema {(short)expectedKey}");

            CompareRange(message, "validVersions", attr.ValidVersions, root.GetProperty("validVersions").GetString());
            CompareRange(message, "flexibleVersions", attr.FlexibleVersions, Str(root, "flexibleVersions"));

            var instance = Activator.CreateInstance(type)!;
            CheckFields(type, instance, root.GetProperty("fields"), message);
        }

        private void CheckFields(Type type, object instance, JsonElement schemaFields, string path)
        {
            var defined = FieldsOf(type);
            var schemaRegular = schemaFields.EnumerateArray().Where(f => !f.TryGetProperty("tag", out _)).ToList();
            var schemaTagged = schemaFields.EnumerateArray().Where(f => f.TryGetProperty("tag", out _)).ToList();
            var definedRegular = defined.Where(d => d.Field.Tag < 0).ToList();
            var definedTagged = defined.Where(d => d.Field.Tag >= 0).ToList();

            string schemaOrder = string.Join(", ", schemaRegular.Select(f => f.GetProperty("name").GetString()));
            string definedOrder = string.Join(", ", definedRegular.Select(KafkaName));
            if (schemaOrder != definedOrder)
                Error(path, $"regular fields [{definedOrder}], schema [{schemaOrder}]");

            foreach (var s in schemaRegular)
            {
                string name = s.GetProperty("name").GetString()!;
                var match = definedRegular.Where(d => KafkaName(d) == name).ToList();
                if (match.Count == 1) CheckField(match[0], s, instance, $"{path}.{name}");
            }

            foreach (var s in schemaTagged)
            {
                string name = s.GetProperty("name").GetString()!;
                int tag = s.GetProperty("tag").GetInt32();
                var match = definedTagged.Where(d => d.Field.Tag == tag).ToList();
                if (match.Count != 1)
                {
                    Error($"{path}.{name}", $"tag {tag} defined {match.Count} times");
                    continue;
                }
                if (KafkaName(match[0]) != name) Error($"{path}.{name}", $"tag {tag} is named {KafkaName(match[0])}");
                CompareRange($"{path}.{name}", "taggedVersions", VersionRange.Parse(match[0].Field.TaggedVersions), Str(s, "taggedVersions"));
                CheckField(match[0], s, instance, $"{path}.{name}");
            }
            foreach (var d in definedTagged.Where(d => schemaTagged.All(s => s.GetProperty("tag").GetInt32() != d.Field.Tag)))
                Error($"{path}.{KafkaName(d)}", $"tag {d.Field.Tag} is not in the schema");
        }

        private void CheckField((PropertyInfo Property, FieldAttribute Field) def, JsonElement s, object instance, string path)
        {
            var (prop, field) = def;
            CompareRange(path, "versions", field.Versions, Str(s, "versions"));
            var nullableVersions = Str(s, "nullableVersions");
            CompareRange(path, "nullableVersions", VersionRange.Parse(field.NullableVersions), nullableVersions);
            bool ignorable = s.TryGetProperty("ignorable", out var ig) && ig.GetBoolean();
            if (field.Ignorable != ignorable) Error(path, $"ignorable {field.Ignorable}, schema {ignorable}");

            string type = s.GetProperty("type").GetString()!;
            bool isArray = type.StartsWith("[]", StringComparison.Ordinal);
            string elem = ElementTypeName(type);
            Type actual = prop.PropertyType;
            Type? element = isArray
                ? actual.IsGenericType && actual.GetGenericTypeDefinition() == typeof(List<>) ? actual.GetGenericArguments()[0] : null
                : actual;
            if (isArray && element is null)
            {
                Error(path, $"type {actual.Name}, schema {type}");
                return;
            }

            bool schemaNullable = !VersionRange.Parse(nullableVersions).IsEmpty;
            if (!actual.IsValueType && (type != "records"))
            {
                var state = _nullability.Create(prop).ReadState;
                bool declaredNullable = state == NullabilityState.Nullable;
                if (declaredNullable != schemaNullable)
                    Error(path, $"declared {(declaredNullable ? "nullable" : "non-nullable")}, schema nullableVersions {nullableVersions ?? "none"}");
            }

            object? value = prop.GetValue(instance);
            CheckDefault(path, s, type, value, schemaNullable);

            if (Primitives.TryGetValue(elem, out var expected))
            {
                if (element != expected) Error(path, $"type {Describe(actual)}, schema {type}");
                return;
            }

            var sub = s.TryGetProperty("fields", out var inline) ? inline : _structs.GetValueOrDefault(elem);
            if (sub.ValueKind != JsonValueKind.Array)
            {
                Error(path, $"schema struct {elem} is not defined");
                return;
            }
            if (!element!.IsClass || element.GetCustomAttribute<ApiMessageAttribute>() is not null || (FieldsOf(element).Count == 0 && sub.GetArrayLength() > 0))
            {
                Error(path, $"type {Describe(actual)} is not a struct class for schema {type}");
                return;
            }
            if (!_visited.Add((element, elem))) return;
            var structInstance = Activator.CreateInstance(element)!;
            CheckFields(element, structInstance, sub, isArray ? path + "[]" : path);
        }

        private void CheckDefault(string path, JsonElement s, string type, object? value, bool schemaNullable)
        {
            string? dflt = s.TryGetProperty("default", out var d)
                ? d.ValueKind switch
                {
                    JsonValueKind.String => d.GetString(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => d.GetRawText(),
                }
                : null;
            bool defaultNull = dflt == "null";
            if (defaultNull && !schemaNullable) Error(path, "schema default null on a non-nullable field");

            switch (type)
            {
                case "records":
                    if (value is not null) Error(path, "records should default to null");
                    return;
                case "bool":
                    if ((bool)value! != (dflt == "true")) Error(path, $"default {value}, schema {dflt ?? "false"}");
                    return;
                case "int8" or "int16" or "uint16" or "int32" or "uint32" or "int64":
                    long expectedInt = dflt is null ? 0 : ParseInteger(dflt);
                    if (Convert.ToInt64(value, CultureInfo.InvariantCulture) != expectedInt)
                        Error(path, $"default {value}, schema {dflt ?? "0"}");
                    return;
                case "float64":
                    double expectedDouble = dflt is null ? 0 : double.Parse(dflt, CultureInfo.InvariantCulture);
                    if ((double)value! != expectedDouble) Error(path, $"default {value}, schema {dflt ?? "0"}");
                    return;
                case "uuid":
                    if ((Guid)value! != Guid.Empty && dflt is null) Error(path, $"default {value}, schema zero uuid");
                    return;
                case "string":
                    string? expectedString = defaultNull ? null : dflt ?? "";
                    if ((string?)value != expectedString) Error(path, $"default \"{value ?? "null"}\", schema \"{expectedString ?? "null"}\"");
                    return;
                default:
                    // bytes, arrays and structs: null when the schema says so, otherwise an empty instance.
                    if (defaultNull && value is not null) Error(path, "default should be null");
                    if (!defaultNull && value is null) Error(path, "default should be empty, not null");
                    if (type == "bytes" && value is byte[] { Length: > 0 }) Error(path, "default should be empty bytes");
                    return;
            }
        }

        private static long ParseInteger(string text)
        {
            bool negative = text.StartsWith('-');
            string digits = negative ? text[1..] : text;
            long v = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? long.Parse(digits[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                : long.Parse(digits, CultureInfo.InvariantCulture);
            return negative ? -v : v;
        }

        private void CompareRange(string path, string what, VersionRange actual, string? schema)
        {
            var expected = VersionRange.Parse(schema);
            // Every empty range means "none", whatever its bounds.
            if (actual.IsEmpty && expected.IsEmpty) return;
            if (actual != expected) Error(path, $"{what} {actual}, schema {expected}");
        }

        private static string? Str(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) ? v.GetString() : null;

        private static string Describe(Type t)
        {
            if (!t.IsGenericType) return t.Name;
            var sb = new StringBuilder(t.Name[..t.Name.IndexOf('`')]).Append('<');
            sb.AppendJoin(", ", t.GetGenericArguments().Select(Describe));
            return sb.Append('>').ToString();
        }

        private void Error(string path, string text) => errors.Add($"{path}: {text}");
    }
}

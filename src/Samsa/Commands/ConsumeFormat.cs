using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Confluent.Kafka;

namespace Samsa.Commands;

/// <summary>
/// Renders consumed records for <c>samsa consume</c>. Keys, values and header values are shown as UTF-8 text
/// (invalid sequences become U+FFFD); a null key or value is empty text, or JSON null.
/// </summary>
internal abstract class ConsumeFormat
{
    public abstract void Write(TextWriter writer, ConsumeResult<byte[]?, byte[]?> record);

    public static ConsumeFormat Create(string format, string? template, string keySeparator) =>
        template is not null
            ? TemplateFormat.Parse(template)
            : format switch
            {
                "kv" => new KeyValueFormat(keySeparator),
                "json" => new JsonLinesFormat(),
                _ => new ValueFormat(),
            };

    protected static string Text(byte[]? bytes) => bytes is null ? "" : Encoding.UTF8.GetString(bytes);

    private sealed class ValueFormat : ConsumeFormat
    {
        public override void Write(TextWriter writer, ConsumeResult<byte[]?, byte[]?> record) =>
            writer.Write(Text(record.Message.Value) + "\n");
    }

    private sealed class KeyValueFormat(string separator) : ConsumeFormat
    {
        public override void Write(TextWriter writer, ConsumeResult<byte[]?, byte[]?> record) =>
            writer.Write(Text(record.Message.Key) + separator + Text(record.Message.Value) + "\n");
    }

    /// <summary>One JSON object per line: {"topic","partition","offset","timestamp","key","value","headers":{}}.</summary>
    private sealed class JsonLinesFormat : ConsumeFormat
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(1024);
        private readonly Utf8JsonWriter _json;

        public JsonLinesFormat()
        {
            // Relaxed escaping keeps non-ASCII text readable; output is data for tools, not HTML.
            _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }

        public override void Write(TextWriter writer, ConsumeResult<byte[]?, byte[]?> record)
        {
            _buffer.ResetWrittenCount();
            _json.Reset();
            _json.WriteStartObject();
            _json.WriteString("topic", record.Topic);
            _json.WriteNumber("partition", record.Partition.Value);
            _json.WriteNumber("offset", record.Offset.Value);
            _json.WriteNumber("timestamp", record.Message.Timestamp.UnixTimestampMs);
            WriteBytes("key", record.Message.Key);
            WriteBytes("value", record.Message.Value);
            _json.WriteStartObject("headers");
            if (record.Message.Headers is { } headers)
            {
                foreach (var header in headers)
                {
                    WriteBytes(header.Key, header.GetValueBytes());
                }
            }

            _json.WriteEndObject();
            _json.WriteEndObject();
            _json.Flush();
            writer.Write(Encoding.UTF8.GetString(_buffer.WrittenSpan));
            writer.Write('\n');
        }

        private void WriteBytes(string name, byte[]? bytes)
        {
            if (bytes is null)
            {
                _json.WriteNull(name);
            }
            else
            {
                _json.WriteString(name, Encoding.UTF8.GetString(bytes));
            }
        }
    }

    /// <summary>
    /// kcat-style template: %t topic, %p partition, %o offset, %T timestamp (ms), %k key, %s value, %h headers
    /// (k=v,k=v), %% a percent sign; \n \t \r \\ escapes. No newline is added, as with kcat -f.
    /// </summary>
    internal sealed class TemplateFormat : ConsumeFormat
    {
        private readonly List<(char Field, string? Literal)> _parts;

        private TemplateFormat(List<(char, string?)> parts)
        {
            _parts = parts;
        }

        public static TemplateFormat Parse(string template)
        {
            var parts = new List<(char, string?)>();
            var literal = new StringBuilder();
            for (int i = 0; i < template.Length; i++)
            {
                char c = template[i];
                if ((c == '%' || c == '\\') && i + 1 >= template.Length)
                {
                    throw CliException.Usage($"format template ends with a lone '{c}'");
                }

                if (c == '\\')
                {
                    char next = template[++i];
                    literal.Append(next switch
                    {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '\\' => '\\',
                        _ => throw CliException.Usage($"unknown escape '\\{next}' in format template (use \\n \\t \\r \\\\)"),
                    });
                }
                else if (c == '%')
                {
                    char field = template[++i];
                    if (field == '%')
                    {
                        literal.Append('%');
                        continue;
                    }

                    if ("tpoTksh".IndexOf(field, StringComparison.Ordinal) < 0)
                    {
                        throw CliException.Usage($"unknown field '%{field}' in format template (use %t %p %o %T %k %s %h %%)");
                    }

                    if (literal.Length > 0)
                    {
                        parts.Add(('\0', literal.ToString()));
                        literal.Clear();
                    }

                    parts.Add((field, null));
                }
                else
                {
                    literal.Append(c);
                }
            }

            if (literal.Length > 0)
            {
                parts.Add(('\0', literal.ToString()));
            }

            return new TemplateFormat(parts);
        }

        public override void Write(TextWriter writer, ConsumeResult<byte[]?, byte[]?> record)
        {
            foreach (var (field, literal) in _parts)
            {
                writer.Write(field switch
                {
                    '\0' => literal,
                    't' => record.Topic,
                    'p' => record.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    'o' => record.Offset.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    'T' => record.Message.Timestamp.UnixTimestampMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    'k' => Text(record.Message.Key),
                    's' => Text(record.Message.Value),
                    'h' => record.Message.Headers is { } h ? string.Join(",", h.Select(x => $"{x.Key}={Text(x.GetValueBytes())}")) : "",
                    _ => "",
                });
            }
        }
    }
}

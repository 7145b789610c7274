using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;

namespace Samsa.Commands;

/// <summary>Exit codes of every client verb: 0 ok, 1 the operation failed, 2 the command line or config is wrong.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
}

/// <summary>A failure already phrased for the operator; the runner prints it and exits with <see cref="ExitCode"/>.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Error) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(message, ExitCodes.Usage);

    public static CliException TopicDoesNotExist(string topic) => new($"Topic '{topic}' does not exist");
}

internal enum OutputFormat
{
    Table,
    Json,
}

/// <summary>How results and failures reach the terminal: stdout for data, stderr for messages and errors.</summary>
internal static class Output
{
    public static Option<string> CreateFormatOption()
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = "Output format: table or json.",
            DefaultValueFactory = _ => "table",
        };
        option.AcceptOnlyFromAmong("table", "json");
        return option;
    }

    public static OutputFormat GetFormat(ParseResult parseResult, Option<string> option) =>
        string.Equals(parseResult.GetValue(option), "json", StringComparison.OrdinalIgnoreCase) ? OutputFormat.Json : OutputFormat.Table;

    /// <summary>
    /// Runs a verb body, turning every expected failure into one "samsa: error: ..." line on stderr and an exit code.
    /// Unexpected exceptions print their type and message too (no stack trace unless SAMSA_DEBUG is set).
    /// </summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync($"samsa: error: {e.Message}").ConfigureAwait(false);
            return e.ExitCode;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException && e.Source == "Confluent.Kafka"
                                  && e.Message.Contains("config", StringComparison.OrdinalIgnoreCase))
        {
            // librdkafka rejects unknown or invalid properties (e.g. a bad -X) when the client is built.
            await Console.Error.WriteLineAsync($"samsa: error: invalid client configuration: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (KafkaException e)
        {
            await Console.Error.WriteLineAsync($"samsa: error: {Describe(e.Error)}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"samsa: error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("SAMSA_DEBUG") is null)
        {
            await Console.Error.WriteLineAsync($"samsa: error: unexpected {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Error;
        }
    }

    /// <summary>A Kafka error as "reason (CODE_NAME)", the way Kafka's own tools name error codes.</summary>
    public static string Describe(Error error)
    {
        var name = KafkaErrorName(error.Code);
        return string.IsNullOrEmpty(error.Reason) || error.Reason == name ? name : $"{error.Reason} ({name})";
    }

    /// <summary>ErrorCode.UnknownTopicOrPart → UNKNOWN_TOPIC_OR_PART; local (librdkafka) codes keep their _LOCAL prefix.</summary>
    public static string KafkaErrorName(ErrorCode code)
    {
        var name = code.ToString();
        var local = name.StartsWith("Local_", StringComparison.Ordinal);
        if (local)
        {
            name = name["Local_".Length..];
        }

        var sb = new StringBuilder(local ? "_" : "");
        for (int i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]))))
            {
                sb.Append('_');
            }

            sb.Append(char.ToUpperInvariant(name[i]));
        }

        return sb.ToString();
    }

    public static bool IsUnknownTopic(ErrorCode code) =>
        code is ErrorCode.UnknownTopicOrPart or ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicId;

    public static void WriteJson(JsonNode node)
    {
        var json = node.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Console.Out.WriteLine(json);
    }

    public static void Info(string message) => Console.Error.WriteLine(message);
}

/// <summary>Plain aligned columns (two spaces apart), header in capitals, no borders: easy to read and to grep/awk.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params object?[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"Row has {cells.Length} cells, table has {headers.Length} columns", nameof(cells));
        }

        _rows.Add(cells.Select(c => Convert.ToString(c, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToArray());
    }

    public void Write(TextWriter writer)
    {
        var widths = new int[headers.Length];
        for (int c = 0; c < headers.Length; c++)
        {
            widths[c] = Math.Max(headers[c].Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[c].Length));
        }

        WriteRow(writer, headers, widths);
        foreach (var row in _rows)
        {
            WriteRow(writer, row, widths);
        }
    }

    private static void WriteRow(TextWriter writer, string[] cells, int[] widths)
    {
        var sb = new StringBuilder();
        for (int c = 0; c < cells.Length; c++)
        {
            if (c == cells.Length - 1)
            {
                sb.Append(cells[c]);
            }
            else
            {
                sb.Append(cells[c].PadRight(widths[c] + 2));
            }
        }

        writer.WriteLine(sb.ToString().TrimEnd());
    }
}

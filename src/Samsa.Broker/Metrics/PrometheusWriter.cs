using System.Globalization;
using System.Text;

namespace Samsa.Broker.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format (version 0.0.4): one <c># HELP</c> and one <c># TYPE</c> line per
/// metric family, then its samples <c>name{label="value",...} number</c>. Label values are escaped (backslash,
/// double quote, newline) so a topic or group name can never break a line. Families must not be written twice.
/// </summary>
internal sealed class PrometheusWriter
{
    private readonly StringBuilder _sb = new();

    public void Family(string name, string type, string help)
    {
        _sb.Append("# HELP ").Append(name).Append(' ');
        foreach (char c in help)
        {
            if (c == '\\') _sb.Append("\\\\");
            else if (c == '\n') _sb.Append("\\n");
            else _sb.Append(c);
        }
        _sb.Append('\n');
        _sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public void Sample(string name, double value, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        _sb.Append(name);
        if (labels.Length > 0)
        {
            _sb.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0) _sb.Append(',');
                _sb.Append(labels[i].Name).Append("=\"");
                AppendEscaped(labels[i].Value);
                _sb.Append('"');
            }
            _sb.Append('}');
        }
        _sb.Append(' ').Append(FormatNumber(value)).Append('\n');
    }

    /// <summary>A histogram's _bucket (cumulative, with le), _sum and _count samples under extra labels.</summary>
    public void Histogram(string name, Histogram histogram, params ReadOnlySpan<(string Name, string Value)> labels)
    {
        var cumulative = histogram.CumulativeCounts();
        Span<(string, string)> withLe = new (string, string)[labels.Length + 1];
        labels.CopyTo(withLe);
        for (int i = 0; i < cumulative.Length; i++)
        {
            withLe[^1] = ("le", i < histogram.Bounds.Count ? FormatNumber(histogram.Bounds[i]) : "+Inf");
            Sample(name + "_bucket", cumulative[i], withLe);
        }
        Sample(name + "_sum", histogram.SumSeconds, labels);
        // The count is the +Inf bucket, so _count and buckets agree within one scrape even while samples arrive.
        Sample(name + "_count", cumulative[^1], labels);
    }

    public override string ToString() => _sb.ToString();

    public static string FormatNumber(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private void AppendEscaped(string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': _sb.Append("\\\\"); break;
                case '"': _sb.Append("\\\""); break;
                case '\n': _sb.Append("\\n"); break;
                default: _sb.Append(c); break;
            }
        }
    }
}

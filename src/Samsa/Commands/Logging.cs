using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Samsa.Commands;

internal static class Logging
{
    /// <summary>One line per event: "2025-01-31 12:00:00.000 info: Category[0] message".</summary>
    public static ILoggerFactory CreateConsole(LogLevel minimumLevel) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(minimumLevel)
            .AddSimpleConsole(options =>
            {
                options.SingleLine = true;
                options.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
                options.ColorBehavior = LoggerColorBehavior.Default;
            }));
}

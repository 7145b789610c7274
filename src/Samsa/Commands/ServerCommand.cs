using System.Collections;
using System.CommandLine;
using Microsoft.Extensions.Logging;
using Samsa.Broker.Configuration;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa server [properties-file] [--override key=value]...</c>: runs a node until SIGINT/SIGTERM.
/// With no arguments it is a zero-config single node (PLAINTEXT://127.0.0.1:9092, data in ./samsa-data).
/// Exit codes: 0 after a graceful shutdown, 2 for configuration errors, 1 for start-up failures.
/// </summary>
internal static class ServerCommand
{
    public const int ConfigErrorExitCode = 2;
    public const int StartupFailureExitCode = 1;

    public static Command Create()
    {
        var propertiesFile = new Argument<string?>("properties-file")
        {
            Description = "Kafka-style server.properties file (optional; every key has a default).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var overrides = new Option<string[]>("--override", "-o")
        {
            Description = "Set a config key, overriding the file and SAMSA_* environment variables (repeatable): -o num.partitions=3",
            HelpName = "key=value",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var logLevel = new Option<LogLevel>("--log-level")
        {
            Description = "Minimum level of log output.",
            DefaultValueFactory = _ => LogLevel.Information,
        };

        var command = new Command("server", "Run a Samsa node (broker and controller).")
        {
            propertiesFile,
            overrides,
            logLevel,
        };
        command.SetAction((parseResult, _) => RunAsync(
            parseResult.GetValue(propertiesFile),
            parseResult.GetValue(overrides) ?? [],
            parseResult.GetValue(logLevel),
            Environment.GetEnvironmentVariables()));
        return command;
    }

    internal static async Task<int> RunAsync(string? propertiesFile, string[] overrideArgs, LogLevel logLevel, IDictionary environment)
    {
        BrokerConfig config;
        try
        {
            config = BrokerConfig.Load(propertiesFile, ParseOverrides(overrideArgs), environment);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"samsa: configuration error: {e.Message}").ConfigureAwait(false);
            return ConfigErrorExitCode;
        }

        using var loggerFactory = Logging.CreateConsole(logLevel);
        var logger = loggerFactory.CreateLogger("Samsa.Server");
        LogConfiguration(logger, config, propertiesFile);

        using var shutdown = new ShutdownSignal();
        try
        {
            var node = await Samsa.Broker.BrokerHost.StartAsync(config, loggerFactory, shutdown.Token).ConfigureAwait(false);
            await using (node.ConfigureAwait(false))
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, shutdown.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                logger.LogInformation("Received {Signal}, shutting down: flushing and closing logs", shutdown.Received);
            }

            logger.LogInformation("Samsa node {NodeId} stopped", config.NodeId);
            return 0;
        }
        catch (OperationCanceledException) when (shutdown.Token.IsCancellationRequested)
        {
            logger.LogInformation("Start-up cancelled by {Signal}", shutdown.Received);
            return 0;
        }
        catch (ConfigException e)
        {
            logger.LogCritical("Configuration error: {Message}", e.Message);
            return ConfigErrorExitCode;
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "Samsa node failed");
            return StartupFailureExitCode;
        }
    }

    /// <summary>Splits each <c>key=value</c> at the first '='; the value may itself contain '='.</summary>
    internal static List<KeyValuePair<string, string>> ParseOverrides(IEnumerable<string> args)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var arg in args)
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ConfigException($"Invalid override '{arg}': expected key=value");
            }

            result.Add(new(arg[..eq].Trim(), arg[(eq + 1)..]));
        }

        return result;
    }

    private static void LogConfiguration(ILogger logger, BrokerConfig config, string? propertiesFile)
    {
        logger.LogInformation("Samsa node {NodeId} starting (config file: {File}, log dirs: {LogDirs})",
            config.NodeId, propertiesFile ?? "none", string.Join(",", config.LogDirs));
        foreach (var warning in config.Warnings)
        {
            logger.LogWarning("{Warning}", warning);
        }

        foreach (var (name, value) in config.NonDefaultValues())
        {
            logger.LogInformation("Config {Name} = {Value}", name, value);
        }
    }
}

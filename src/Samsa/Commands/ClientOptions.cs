using System.CommandLine;
using Confluent.Kafka;

namespace Samsa.Commands;

/// <summary>
/// Options shared by every client verb (cluster, topic, produce, consume, group): where the cluster is, the client
/// profile, extra librdkafka settings, request timeout and verbosity. Each verb gets its own instances (System.CommandLine symbols are per command).
/// </summary>
internal sealed class ClientOptions
{
    public const string DefaultBootstrapServer = "127.0.0.1:9092";
    public const string BootstrapEnvironmentVariable = "SAMSA_BOOTSTRAP_SERVER";

    public Option<string> Bootstrap { get; } = new("--bootstrap-server", "-b")
    {
        Description = $"Broker(s) to connect to, host:port[,host:port...]. Default: ${BootstrapEnvironmentVariable}, " +
                      $"else bootstrap.servers of the profile, else {DefaultBootstrapServer}.",
        HelpName = "host:port",
    };

    public Option<string> Profile { get; } = new("--profile")
    {
        Description = "Client profile: a properties file of Kafka client settings (bootstrap.servers, security.protocol, sasl.*, ssl.*). " +
                      $"Default: ${ClientProfile.EnvironmentVariable}, else ~/.config/samsa/profile.properties if it exists.",
        HelpName = "file",
    };

    public Option<string[]> ClientConfig { get; } = new("--client-config", "-X")
    {
        Description = "Extra librdkafka client property (repeatable), e.g. -X security.protocol=SASL_PLAINTEXT.",
        HelpName = "key=value",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<int> TimeoutSeconds { get; } = new("--timeout")
    {
        Description = "Seconds to wait for the cluster to answer a request.",
        HelpName = "seconds",
        DefaultValueFactory = _ => 10,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Show the Kafka client library's own log lines on stderr.",
    };

    /// <summary>The bootstrap servers when --bootstrap-server is not given: environment, then profile, then the default.</summary>
    public static string DefaultBootstrap(ClientProfile? profile = null)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(BootstrapEnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment.Trim();
        }

        return profile?.BootstrapServers ?? DefaultBootstrapServer;
    }

    public void AddTo(Command command)
    {
        command.Options.Add(Bootstrap);
        command.Options.Add(Profile);
        command.Options.Add(ClientConfig);
        command.Options.Add(TimeoutSeconds);
        command.Options.Add(Verbose);
    }

    /// <summary>Reads the shared options; invalid values become a <see cref="CliException"/> with the usage exit code.</summary>
    public ClientSettings Bind(ParseResult parseResult)
    {
        var profile = ClientProfile.Resolve(parseResult.GetValue(Profile));
        var bootstrap = parseResult.GetValue(Bootstrap);
        if (bootstrap is null)
        {
            bootstrap = DefaultBootstrap(profile);
        }
        else if (string.IsNullOrWhiteSpace(bootstrap))
        {
            throw CliException.Usage("--bootstrap-server must not be empty");
        }

        int timeout = parseResult.GetValue(TimeoutSeconds);
        if (timeout <= 0)
        {
            throw CliException.Usage("--timeout must be a positive number of seconds");
        }

        // Profile settings first, so -X given on the command line overrides them (later Set wins).
        var extra = new List<KeyValuePair<string, string>>(profile?.Properties ?? []);
        extra.AddRange(KeyValueArgs.Parse(parseResult.GetValue(ClientConfig) ?? [], "--client-config"));
        return new ClientSettings(bootstrap.Trim(), extra, TimeSpan.FromSeconds(timeout), parseResult.GetValue(Verbose)) { Profile = profile };
    }
}

/// <summary>Resolved client options, and the librdkafka configuration every client verb starts from.</summary>
internal sealed record ClientSettings(string BootstrapServers, IReadOnlyList<KeyValuePair<string, string>> Extra, TimeSpan Timeout, bool Verbose)
{
    /// <summary>The profile the settings started from, if any (named in error messages).</summary>
    public ClientProfile? Profile { get; init; }

    /// <summary>
    /// Short timeouts so a CLI never hangs on an unreachable cluster: connection set-up fails after 5 s, and
    /// <see cref="BrokerWatch"/> reports "all brokers down" as soon as librdkafka gives up on every bootstrap address.
    /// Auto-creation is off: a typo in a topic name must be an error, not a new topic.
    /// </summary>
    public T Apply<T>(T config) where T : ClientConfig
    {
        config.BootstrapServers = BootstrapServers;
        config.ClientId = "samsa-cli";
        config.SocketTimeoutMs = (int)Math.Clamp(Timeout.TotalMilliseconds, 1000, int.MaxValue);
        config.SocketConnectionSetupTimeoutMs = 5000;
        config.AllowAutoCreateTopics = false;
        config.TopicMetadataRefreshIntervalMs = 60_000;
        config.ReconnectBackoffMs = 100;
        config.ReconnectBackoffMaxMs = 1000;
        foreach (var (key, value) in Extra)
        {
            config.Set(key, value);
        }

        return config;
    }

    public AdminClientConfig AdminConfig() => Apply(new AdminClientConfig());

    /// <summary>
    /// Opens (and closes) a plain TCP connection to the bootstrap addresses before the Kafka client starts: librdkafka
    /// retries refused connections silently until a request times out, so this is what makes "nothing is listening
    /// there" fail in milliseconds with the operating system's own reason. One reachable address is enough.
    /// </summary>
    public async Task EnsureReachableAsync(CancellationToken ct)
    {
        var failures = new List<string>();
        var attempts = BootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(address => TryConnectAsync(address, ct))
            .ToList();
        foreach (var attempt in attempts)
        {
            var error = await attempt.ConfigureAwait(false);
            if (error is null)
            {
                return;
            }

            failures.Add(error);
        }

        throw BrokerWatch.UnreachableError(BootstrapServers, string.Join("; ", failures), Profile);
    }

    private static async Task<string?> TryConnectAsync(string address, CancellationToken ct)
    {
        var hostPort = address.Contains("://", StringComparison.Ordinal) ? address[(address.IndexOf("://", StringComparison.Ordinal) + 3)..] : address;
        var colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostPort[(colon + 1)..], out var port) || port is <= 0 or > 65535)
        {
            throw CliException.Usage($"--bootstrap-server: '{address}' is not host:port");
        }

        var host = hostPort[..colon].Trim('[', ']');
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"{address}: no answer within 5 s";
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return $"{address}: {e.Message}";
        }
    }
}

/// <summary>
/// Watches a client's error and log callbacks (called on librdkafka's threads). <see cref="Down"/> is cancelled when
/// no broker can be reached, so a verb waiting on the cluster fails fast with <see cref="Unreachable"/> instead of
/// waiting for its full timeout.
/// </summary>
internal sealed class BrokerWatch : IDisposable
{
    private readonly CancellationTokenSource _down = new();
    private readonly ClientSettings _settings;
    private volatile string? _lastTransportError;
    private volatile string? _authenticationError;
    private volatile Error? _fatal;

    public BrokerWatch(ClientSettings settings)
    {
        _settings = settings;
    }

    public CancellationToken Down => _down.Token;

    public bool IsDown => _down.IsCancellationRequested;

    public Error? Fatal => _fatal;

    public void OnError(Error error)
    {
        if (error.IsFatal)
        {
            _fatal = error;
            Cancel();
            return;
        }

        switch (error.Code)
        {
            case ErrorCode.Local_Transport:
            case ErrorCode.Local_Resolve:
            case ErrorCode.Local_TimedOut:
            case ErrorCode.Local_Authentication:
            case ErrorCode.Local_Ssl:
                _lastTransportError = error.Reason;
                if (error.Code is ErrorCode.Local_Authentication or ErrorCode.Local_Ssl) _authenticationError = error.Reason;
                if (_settings.Verbose)
                {
                    Console.Error.WriteLine($"samsa: client: {error.Reason}");
                }

                break;
            case ErrorCode.Local_AllBrokersDown:
                Cancel();
                break;
            default:
                if (_settings.Verbose)
                {
                    Console.Error.WriteLine($"samsa: client: {error.Reason} ({error.Code})");
                }

                break;
        }
    }

    public void OnLog(LogMessage message)
    {
        if (_settings.Verbose)
        {
            Console.Error.WriteLine($"samsa: rdkafka {message.Level} {message.Facility}: {message.Message}");
        }
    }

    /// <summary>The error to report once <see cref="Down"/> fired or a request timed out against a silent cluster.</summary>
    public CliException Unreachable()
    {
        if (_fatal is { } fatal)
        {
            return new CliException($"Fatal client error: {fatal.Reason} ({fatal.Code})");
        }

        if (_authenticationError is { } refused)
        {
            // The broker answered but refused the credentials or the TLS handshake: "unreachable" would mislead.
            return new CliException($"The broker at {_settings.BootstrapServers} refused the connection: {refused.TrimEnd('.')}." + Environment.NewLine +
                "Check security.protocol, sasl.mechanism, sasl.username, sasl.password and ssl.* (-X key=value or the --profile file)" +
                (_settings.Profile is null ? "." : $"; client settings came from the profile {_settings.Profile.Path}."));
        }

        return UnreachableError(_settings.BootstrapServers, _lastTransportError, _settings.Profile);
    }

    public static CliException UnreachableError(string bootstrapServers, string? lastError, ClientProfile? profile = null) => new(
        $"Could not reach a Samsa broker at {bootstrapServers}{(lastError is null ? "" : $" ({lastError.TrimEnd('.')})")}." + Environment.NewLine +
        (profile is null ? "" : $"Client settings came from the profile {profile.Path}." + Environment.NewLine) +
        "Check that the broker is running (`samsa server`) and listening on that address, that its advertised " +
        "listener is reachable from here, or point the CLI elsewhere with --bootstrap-server host:port " +
        $"(or ${ClientOptions.BootstrapEnvironmentVariable}, or bootstrap.servers in a --profile file).");

    /// <summary>Awaits a client task, failing fast when the watch reports the cluster unreachable.</summary>
    public async Task<T> WaitAsync<T>(Task<T> task, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(Down, cancellationToken);
        try
        {
            return await task.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsDown)
        {
            throw Unreachable();
        }
        catch (KafkaException e) when (MeansUnreachable(e.Error))
        {
            throw Unreachable();
        }
    }

    public async Task WaitAsync(Task task, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(Down, cancellationToken);
        try
        {
            await task.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (IsDown)
        {
            throw Unreachable();
        }
        catch (KafkaException e) when (MeansUnreachable(e.Error))
        {
            throw Unreachable();
        }
    }

    /// <summary>Runs a blocking client call (e.g. GetMetadata) off the caller's thread, failing fast as above.</summary>
    public async Task<T> RunAsync<T>(Func<T> blockingCall, CancellationToken cancellationToken = default)
    {
        var call = Task.Run(blockingCall, CancellationToken.None);
        try
        {
            return await WaitAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (CliException)
        {
            // The caller disposes the client next; destroying librdkafka while this thread is still inside the blocking
            // call aborts the process (seen with refused SASL logins). The call is bounded by its own timeout.
            try
            {
                await call.ConfigureAwait(false);
            }
            catch (KafkaException)
            {
            }

            throw;
        }
    }

    /// <summary>A request failed because no connection could be made (not because the broker said no).</summary>
    private bool MeansUnreachable(Error error) =>
        IsDown || error.Code is ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Transport or ErrorCode.Local_Resolve or ErrorCode.Local_Authentication
            || (error.Code == ErrorCode.Local_TimedOut && _lastTransportError is not null);

    private void Cancel()
    {
        try
        {
            _down.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose() => _down.Dispose();
}

/// <summary>Parses repeatable <c>key=value</c> arguments, splitting at the first '=' (values may contain '=').</summary>
internal static class KeyValueArgs
{
    public static List<KeyValuePair<string, string>> Parse(IEnumerable<string> args, string optionName)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var arg in args)
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw CliException.Usage($"{optionName}: expected key=value, got '{arg}'");
            }

            result.Add(new(arg[..eq].Trim(), arg[(eq + 1)..]));
        }

        return result;
    }
}

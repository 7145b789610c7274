using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa user add|list|remove</c>: SCRAM users over the Kafka admin API (AlterUserScramCredentials,
/// DescribeUserScramCredentials), like <c>kafka-configs.sh --entity-type users --alter --add-config 'SCRAM-SHA-512=[...]'</c>.
/// The password is salted on this side (a random 16-byte salt); only the salted password is sent, and the broker keeps
/// derived keys. PLAIN users live in the broker's JAAS config, not here. Connect with the usual client options
/// (-X security.protocol=SASL_SSL -X sasl.mechanism=... or a --profile).
/// </summary>
internal static class UserCommand
{
    private static readonly string[] Mechanisms = ["SCRAM-SHA-256", "SCRAM-SHA-512"];

    public static Command Create()
    {
        var command = new Command("user", "Add, list and remove SCRAM users (stored in the cluster metadata).");
        command.Subcommands.Add(CreateAdd());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateRemove());
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "User name (the principal is User:<name>)." };

    private static Option<string[]> MechanismOption(string description)
    {
        var option = new Option<string[]>("--mechanism", "-m")
        {
            Description = description,
            HelpName = "SCRAM-SHA-256|SCRAM-SHA-512",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        option.AcceptOnlyFromAmong(Mechanisms);
        return option;
    }

    private static ScramMechanism ToMechanism(string name) => name == "SCRAM-SHA-256" ? ScramMechanism.ScramSha256 : ScramMechanism.ScramSha512;

    private static string MechanismName(ScramMechanism mechanism) => mechanism == ScramMechanism.ScramSha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512";

    private static Command CreateAdd()
    {
        var name = NameArgument();
        var password = new Option<string>("--password")
        {
            Description = "The password. Default: the first line of standard input (keeps it out of shell history and process lists).",
            HelpName = "password",
        };
        var mechanisms = MechanismOption("SCRAM mechanism to create the credential for (repeatable). Default: SCRAM-SHA-512.");
        var iterations = new Option<int>("--iterations")
        {
            Description = "PBKDF2 iterations, 4096 to 16384.",
            HelpName = "N",
            DefaultValueFactory = _ => 8192,
        };
        var client = new ClientOptions();
        var command = new Command("add", "Create or replace a user's SCRAM credential.") { name, password, mechanisms, iterations };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var user = parseResult.GetValue(name)!;
            int rounds = parseResult.GetValue(iterations);
            if (rounds is < 4096 or > 16384) throw CliException.Usage("--iterations must be between 4096 and 16384");
            var secret = parseResult.GetValue(password) ?? await Console.In.ReadLineAsync(ct).ConfigureAwait(false);
            if (string.IsNullOrEmpty(secret)) throw CliException.Usage("no password: give --password or write it on standard input");
            var chosen = parseResult.GetValue(mechanisms) is { Length: > 0 } m ? m.Distinct().ToArray() : ["SCRAM-SHA-512"];

            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            // Kafka refuses a user twice in one request: one request per mechanism.
            foreach (var mechanism in chosen)
            {
                var upsertion = new UserScramCredentialUpsertion
                {
                    User = user,
                    ScramCredentialInfo = new ScramCredentialInfo { Mechanism = ToMechanism(mechanism), Iterations = rounds },
                    Password = Encoding.UTF8.GetBytes(secret),
                    Salt = RandomNumberGenerator.GetBytes(16),
                };
                await AlterAsync(session, upsertion, $"set {mechanism} credential of user '{user}'", ct).ConfigureAwait(false);
                Output.Info($"User '{user}': {mechanism} credential set ({rounds} iterations).");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateList()
    {
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("list", "List SCRAM users with their mechanisms and iterations (never salts or keys).") { format };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var rows = (await DescribeAllAsync(settings, ct).ConfigureAwait(false))
                .SelectMany(d => d.CredentialInfos.Select(i => (d.User, Mechanism: i.Mechanism == 1 ? "SCRAM-SHA-256" : "SCRAM-SHA-512", i.Iterations)))
                .OrderBy(r => r.User, StringComparer.Ordinal).ThenBy(r => r.Mechanism, StringComparer.Ordinal)
                .ToList();
            if (Output.GetFormat(parseResult, format) == OutputFormat.Json)
            {
                var array = new JsonArray();
                foreach (var (user, mechanism, iterations) in rows)
                    array.Add(new JsonObject { ["user"] = user, ["mechanism"] = mechanism, ["iterations"] = iterations });
                Output.WriteJson(array);
            }
            else
            {
                var table = new TextTable("USER", "MECHANISM", "ITERATIONS");
                foreach (var (user, mechanism, iterations) in rows) table.Add(user, mechanism, iterations);
                table.Write(Console.Out);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateRemove()
    {
        var name = NameArgument();
        var mechanisms = MechanismOption("Mechanism whose credential to remove (repeatable). Default: every mechanism the user has.");
        var client = new ClientOptions();
        var command = new Command("remove", "Remove a user's SCRAM credentials.") { name, mechanisms };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var user = parseResult.GetValue(name)!;
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            var chosen = parseResult.GetValue(mechanisms) is { Length: > 0 } m
                ? m.Distinct().Select(ToMechanism).ToList()
                : (await DescribeAsync(session, user, ct).ConfigureAwait(false)).Single().ScramCredentialInfos.Select(i => i.Mechanism).ToList();
            foreach (var mechanism in chosen)
            {
                await AlterAsync(session, new UserScramCredentialDeletion { User = user, Mechanism = mechanism },
                    $"remove {MechanismName(mechanism)} credential of user '{user}'", ct).ConfigureAwait(false);
                Output.Info($"User '{user}': {MechanismName(mechanism)} credential removed.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static async Task AlterAsync(AdminSession session, UserScramCredentialAlteration alteration, string what, CancellationToken ct)
    {
        try
        {
            await session.Watch.WaitAsync(session.Admin.AlterUserScramCredentialsAsync([alteration],
                new AlterUserScramCredentialsOptions { RequestTimeout = session.Settings.Timeout }), ct).ConfigureAwait(false);
        }
        catch (AlterUserScramCredentialsException e) when (e.Results.FirstOrDefault(r => r.Error.IsError) is { } failed)
        {
            if (failed.Error.Code == ErrorCode.ResourceNotFound) throw new CliException($"Could not {what}: the user has no such credential");
            throw new CliException($"Could not {what}: {Output.Describe(failed.Error)}");
        }
    }

    /// <summary>
    /// Every user's credentials, with a DescribeUserScramCredentials request of Samsa's own: Confluent.Kafka 2.16 fails on
    /// an empty answer (no users yet: it copies from the null array librdkafka returns and never completes), so the one
    /// call that can legitimately be empty does not go through it. Same client settings (security.protocol, sasl.*,
    /// ssl.ca.location, ssl.certificate/key.location); the first bootstrap address that answers is used.
    /// </summary>
    private static async Task<List<Samsa.Protocol.Messages.DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult>> DescribeAllAsync(
        ClientSettings settings, CancellationToken ct)
    {
        Samsa.Broker.Security.Authentication.ClientSecurity security;
        try
        {
            security = Samsa.Broker.Security.Authentication.ClientSecurity.FromClientProperties(settings.Extra);
        }
        catch (ArgumentException e)
        {
            throw CliException.Usage(e.Message);
        }

        var failures = new List<string>();
        foreach (var address in settings.BootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int colon = address.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(address[(colon + 1)..], out int port)) throw CliException.Usage($"--bootstrap-server: '{address}' is not host:port");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(settings.Timeout);
            try
            {
                await using var connection = await Samsa.Broker.Security.Authentication.SecureClientConnection.ConnectAsync(
                    address[..colon].Trim('[', ']'), port, security, "samsa-cli", timeout.Token).ConfigureAwait(false);
                var response = await connection.RequestAsync<Samsa.Protocol.Messages.DescribeUserScramCredentialsResponse>(
                    Samsa.Protocol.ApiKey.DescribeUserScramCredentials, 0,
                    new Samsa.Protocol.Messages.DescribeUserScramCredentialsRequest { Users = null }, "samsa-cli", timeout.Token).ConfigureAwait(false);
                if (response.ErrorCode != 0)
                    throw new CliException($"Could not list SCRAM users: {response.ErrorMessage} ({Output.KafkaErrorName((ErrorCode)response.ErrorCode)})");
                return response.Results;
            }
            catch (Samsa.Broker.Security.Authentication.SaslAuthenticationException e)
            {
                throw new CliException($"The broker at {address} refused the connection: {e.Message.TrimEnd('.')}." + Environment.NewLine +
                    "Check security.protocol, sasl.mechanism, sasl.username, sasl.password and ssl.* (-X key=value or the --profile file).");
            }
            catch (System.Security.Authentication.AuthenticationException e)
            {
                throw new CliException($"The broker at {address} refused the connection: TLS handshake failed ({e.Message.TrimEnd('.')}).");
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException
                                      || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                failures.Add($"{address}: {(e is OperationCanceledException ? $"no answer within {settings.Timeout.TotalSeconds:F0} s" : e.Message)}");
            }
        }

        throw BrokerWatch.UnreachableError(settings.BootstrapServers, string.Join("; ", failures), settings.Profile);
    }

    /// <summary>Every user (null) or one user; a user without credentials is an operator error.</summary>
    private static async Task<List<UserScramCredentialsDescription>> DescribeAsync(AdminSession session, string? user, CancellationToken ct)
    {
        try
        {
            var report = await session.Watch.WaitAsync(session.Admin.DescribeUserScramCredentialsAsync(user is null ? [] : [user],
                new DescribeUserScramCredentialsOptions { RequestTimeout = session.Settings.Timeout }), ct).ConfigureAwait(false);
            return report.UserScramCredentialsDescriptions;
        }
        catch (DescribeUserScramCredentialsException e)
            when (e.Results.UserScramCredentialsDescriptions.FirstOrDefault(d => d.Error.IsError) is { } failed)
        {
            if (failed.Error.Code == ErrorCode.ResourceNotFound) throw new CliException($"User '{failed.User}' has no SCRAM credentials");
            throw new CliException($"Could not describe SCRAM users: {Output.Describe(failed.Error)}");
        }
    }
}

using Microsoft.Extensions.Logging.Abstractions;
using Samsa.Broker.Network.InterBroker;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Serialization;

namespace Samsa.Commands;

/// <summary>
/// AlterPartitionReassignments and ListPartitionReassignments over the Kafka protocol. Confluent.Kafka (librdkafka)
/// has no API for them, so the CLI speaks them itself with the broker's inter-broker client to one bootstrap broker
/// (any broker forwards controller writes). Only PLAINTEXT connections: a SASL/SSL client config is refused clearly.
/// </summary>
internal sealed class ReassignmentClient : IAsyncDisposable
{
    private readonly BrokerChannel _channel;
    private readonly TimeSpan _timeout;
    private readonly string _address;

    private ReassignmentClient(BrokerChannel channel, TimeSpan timeout, string address)
    {
        _address = address;
        _channel = channel;
        _timeout = timeout;
    }

    public static ReassignmentClient Open(ClientSettings settings)
    {
        var protocol = settings.Extra.LastOrDefault(kv => kv.Key == "security.protocol").Value;
        if (protocol is not null && !protocol.Equals("plaintext", StringComparison.OrdinalIgnoreCase))
            throw new CliException($"Reassignments are sent over PLAINTEXT only; security.protocol={protocol} is not supported by this command yet.");
        var first = settings.BootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        int colon = first.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(first[(colon + 1)..], out int port))
            throw CliException.Usage($"Bootstrap server '{first}' is not host:port.");
        var endpoint = new BrokerEndpoint("PLAINTEXT", first[..colon].Trim('[', ']'), port, "PLAINTEXT");
        var channel = new BrokerChannel(-1, () => endpoint, PlaintextConnectionFactory.Instance,
            new BrokerChannelOptions { ClientId = "samsa-cli", RequestTimeout = settings.Timeout, ConnectTimeout = TimeSpan.FromSeconds(5) },
            NullLogger.Instance);
        return new ReassignmentClient(channel, settings.Timeout, first);
    }

    /// <summary>Submits targets (null = cancel); returns the per-partition errors that are not NONE.</summary>
    public async Task<IReadOnlyList<(string Topic, int Partition, ErrorCode Error, string? Message)>> AlterAsync(
        IReadOnlyDictionary<(string Topic, int Partition), int[]?> targets, CancellationToken ct)
    {
        var request = new AlterPartitionReassignmentsRequest { TimeoutMs = (int)_timeout.TotalMilliseconds };
        foreach (var topic in targets.GroupBy(t => t.Key.Topic))
            request.Topics.Add(new()
            {
                Name = topic.Key,
                Partitions = [.. topic.Select(t => new AlterPartitionReassignmentsRequest.ReassignablePartition
                {
                    PartitionIndex = t.Key.Partition, Replicas = t.Value?.ToList(),
                })],
            });
        var response = await Send<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse>(request, ct).ConfigureAwait(false);
        if (response.ErrorCode != 0)
            throw new CliException($"Reassignment refused: {(ErrorCode)response.ErrorCode} {response.ErrorMessage}");
        return [.. response.Responses.SelectMany(t => t.Partitions.Where(p => p.ErrorCode != 0)
            .Select(p => (t.Name, p.PartitionIndex, (ErrorCode)p.ErrorCode, p.ErrorMessage)))];
    }

    public async Task<IReadOnlyList<ListPartitionReassignmentsResponse.OngoingTopicReassignment>> ListAsync(CancellationToken ct)
    {
        var response = await Send<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse>(
            new ListPartitionReassignmentsRequest { TimeoutMs = (int)_timeout.TotalMilliseconds, Topics = null }, ct).ConfigureAwait(false);
        if (response.ErrorCode != 0)
            throw new CliException($"Listing reassignments refused: {(ErrorCode)response.ErrorCode} {response.ErrorMessage}");
        return response.Topics;
    }

    private async Task<TResponse> Send<TRequest, TResponse>(TRequest request, CancellationToken ct)
        where TRequest : class where TResponse : class, new()
    {
        try
        {
            return await _channel.SendAsync<TRequest, TResponse>(request, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is BrokerUnavailableException or TimeoutException or ProtocolException)
        {
            throw new CliException($"Request to {_address} failed: {e.Message}");
        }
    }

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}

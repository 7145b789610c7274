using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Samsa.Metadata;

namespace Samsa.Broker.Network.InterBroker;

/// <summary>
/// Inter-broker channels by node id. Endpoints come from the brokers' registrations in the current metadata image,
/// on the listener named by <c>inter.broker.listener.name</c>, and are looked up again on every (re)connect, so a
/// node that restarts elsewhere is followed. <see cref="Get"/> returns the shared channel of a node (short
/// request/response traffic: forwarding, markers); <see cref="CreateDedicated"/> a private one the caller owns and
/// disposes, for loops that hold a connection (a replica fetcher's long-polling Fetch).
/// </summary>
internal sealed class BrokerChannelPool : IAsyncDisposable
{
    private readonly Func<MetadataImage> _image;
    private readonly IBrokerConnectionFactory _factory;
    private readonly BrokerChannelOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ConcurrentDictionary<int, BrokerChannel> _shared = new();
    private int _disposed;

    public BrokerChannelPool(Func<MetadataImage> image, string listenerName, IBrokerConnectionFactory factory,
        BrokerChannelOptions options, ILoggerFactory loggerFactory)
    {
        _image = image;
        ListenerName = listenerName;
        _factory = factory;
        _options = options;
        _loggerFactory = loggerFactory;
    }

    public string ListenerName { get; }

    public BrokerChannelOptions Options => _options;

    /// <summary>The node's registered endpoint on the inter-broker listener, or null (unknown node, no such listener).</summary>
    public BrokerEndpoint? Resolve(int nodeId) =>
        _image().Brokers.TryGetValue(nodeId, out var broker)
            ? broker.Endpoints.FirstOrDefault(e => string.Equals(e.Name, ListenerName, StringComparison.OrdinalIgnoreCase))
            : null;

    public BrokerChannel Get(int nodeId)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _shared.GetOrAdd(nodeId, id => Create(id, _options));
    }

    /// <summary>A channel only the caller uses (and disposes); <paramref name="options"/> default to the pool's.</summary>
    public BrokerChannel CreateDedicated(int nodeId, BrokerChannelOptions? options = null)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return Create(nodeId, options ?? _options);
    }

    private BrokerChannel Create(int nodeId, BrokerChannelOptions options) =>
        new(nodeId, () => Resolve(nodeId), _factory, options, _loggerFactory.CreateLogger<BrokerChannel>());

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var channel in _shared.Values) await channel.DisposeAsync().ConfigureAwait(false);
        _shared.Clear();
    }
}

using System.Collections.Concurrent;
using System.Collections.Immutable;
using Samsa.Broker.Security;
using Samsa.Metadata;

namespace Samsa.Broker.Quotas;

/// <summary>The quota kinds enforced per client; the value is the quota key in metadata.</summary>
public enum ClientQuotaType
{
    Produce,
    Fetch,
    Request,
}

/// <summary>quota.window.num samples of quota.window.size.seconds each (Kafka's defaults: 11 × 1 s).</summary>
public sealed record QuotaWindow(int Samples, long WindowMs)
{
    public static readonly QuotaWindow Default = new(11, 1000);
}

/// <summary>
/// One kind of client quota (Kafka's ClientQuotaManager with the default quota callback). The quota that applies to a
/// (user, client-id) is the first configured entity in Kafka's precedence:
/// user+client-id, user+default client-id, user, default user+client-id, default user+default client-id, default user,
/// client-id, default client-id. Usage is shared by every connection with the same quota key: (user, client-id) for
/// the user+client-id entities, (user, "") for user-only entities and ("", client-id) for client-id-only entities,
/// so a default user quota applies to each user separately. Throttle time is Kafka's
/// <c>(rate - quota) / quota × window</c>: the time after which the rate would be back at the quota.
/// With no client quota configured at all, recording is a single dictionary emptiness check.
/// </summary>
public sealed class ClientQuotaManager
{
    /// <summary>Sensors unused this long are dropped when the table grows (Kafka expires idle quota sensors after an hour).</summary>
    private const long SensorIdleMs = 3_600_000;
    private const int PurgeThreshold = 10_000;

    private readonly IMetadataLog _metadata;
    private readonly QuotaWindow _window;
    private readonly TimeProvider _time;
    private readonly string _key;
    private readonly ConcurrentDictionary<(string User, string ClientId), SampledRate> _sensors = new();

    public ClientQuotaManager(ClientQuotaType type, IMetadataLog metadata, QuotaWindow window, TimeProvider time)
    {
        Type = type;
        _metadata = metadata;
        _window = window;
        _time = time;
        _key = KeyOf(type);
    }

    public ClientQuotaType Type { get; }

    public static string KeyOf(ClientQuotaType type) => type switch
    {
        ClientQuotaType.Produce => "producer_byte_rate",
        ClientQuotaType.Fetch => "consumer_byte_rate",
        _ => "request_percentage",
    };

    /// <summary>The quota bound (per second) and the usage key that apply to the client, or null when unlimited.</summary>
    public (double Bound, (string User, string ClientId) SensorKey)? QuotaFor(KafkaPrincipal principal, string? clientId)
    {
        var quotas = _metadata.Image.ClientQuotas;
        if (quotas.IsEmpty) return null;
        string user = principal.Name;
        string client = clientId ?? "";
        var u = new QuotaEntityName(user);
        var c = new QuotaEntityName(client);
        var defaultName = new QuotaEntityName(null);
        if (Find(quotas, new(u, c, null)) is { } v1) return (v1, (user, client));
        if (Find(quotas, new(u, defaultName, null)) is { } v2) return (v2, (user, client));
        if (Find(quotas, new(u, null, null)) is { } v3) return (v3, (user, ""));
        if (Find(quotas, new(defaultName, c, null)) is { } v4) return (v4, (user, client));
        if (Find(quotas, new(defaultName, defaultName, null)) is { } v5) return (v5, (user, client));
        if (Find(quotas, new(defaultName, null, null)) is { } v6) return (v6, (user, ""));
        if (Find(quotas, new(null, c, null)) is { } v7) return (v7, ("", client));
        if (Find(quotas, new(null, defaultName, null)) is { } v8) return (v8, ("", client));
        return null;
    }

    /// <summary>Records <paramref name="value"/> (bytes, or request time in percent-seconds) and returns the throttle time in ms.</summary>
    public int RecordAndGetThrottleTimeMs(KafkaPrincipal principal, string? clientId, double value)
    {
        if (QuotaFor(principal, clientId) is not { } quota) return 0;
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var sensor = Sensor(quota.SensorKey, now);
        double rate = sensor.Record(value, now);
        if (rate <= quota.Bound) return 0;
        double throttle = (rate - quota.Bound) / quota.Bound * sensor.WindowSizeMs(now);
        return (int)Math.Min(int.MaxValue, Math.Round(throttle));
    }

    /// <summary>Takes back a recorded value (a throttled fetch answers without data).</summary>
    public void Unrecord(KafkaPrincipal principal, string? clientId, double value)
    {
        if (QuotaFor(principal, clientId) is not { } quota) return;
        if (_sensors.TryGetValue(quota.SensorKey, out var sensor)) sensor.Unrecord(value, _time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    /// <summary>Most a client may receive in one response: its quota over the window (Kafka's getMaxValueInQuotaWindow).</summary>
    public int MaxValueInQuotaWindow(KafkaPrincipal principal, string? clientId)
    {
        if (QuotaFor(principal, clientId) is not { } quota) return int.MaxValue;
        double max = quota.Bound * (_window.Samples - 1) * _window.WindowMs / 1000.0;
        return (int)Math.Clamp(max, 1, int.MaxValue);
    }

    private double? Find(ImmutableDictionary<ClientQuotaEntity, ImmutableDictionary<string, double>> quotas, ClientQuotaEntity entity) =>
        quotas.TryGetValue(entity, out var values) && values.TryGetValue(_key, out double v) ? v : null;

    private SampledRate Sensor((string User, string ClientId) key, long now)
    {
        if (_sensors.TryGetValue(key, out var sensor)) return sensor;
        if (_sensors.Count >= PurgeThreshold)
            foreach (var (k, s) in _sensors)
                if (now - s.LastRecordMs > SensorIdleMs) _sensors.TryRemove(k, out _);
        return _sensors.GetOrAdd(key, _ => new SampledRate(_window.Samples, _window.WindowMs));
    }
}

/// <summary>The broker's client quota managers (produce, fetch and request quotas).</summary>
public sealed partial class ClientQuotas(IMetadataLog metadata, QuotaWindow window, TimeProvider time)
{
    public ClientQuotaManager Produce { get; } = new(ClientQuotaType.Produce, metadata, window, time);
    public ClientQuotaManager Fetch { get; } = new(ClientQuotaType.Fetch, metadata, window, time);
    public ClientQuotaManager Request { get; } = new(ClientQuotaType.Request, metadata, window, time);

    public static ClientQuotas Create(Configuration.BrokerConfig config, IMetadataLog metadata, TimeProvider time)
    {
        int Int(string name) => int.Parse(config.GetString(name)!, System.Globalization.CultureInfo.InvariantCulture);
        return new ClientQuotas(metadata, new QuotaWindow(Int("quota.window.num"), Int("quota.window.size.seconds") * 1000L), time);
    }
}

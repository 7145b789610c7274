using System.Collections.Frozen;
using System.Reflection;

namespace Samsa.Protocol.Serialization;

/// <summary>
/// Every [ApiMessage] type in Samsa.Protocol, indexed by API key. This is the one table the codec,
/// the frame reader and the ApiVersions answer are derived from.
/// </summary>
public static class MessageRegistry
{
    private static readonly FrozenDictionary<Type, ApiMessageAttribute> _info;
    private static readonly FrozenDictionary<ApiKey, Type> _requests;
    private static readonly FrozenDictionary<ApiKey, Type> _responses;

    static MessageRegistry()
    {
        var info = new Dictionary<Type, ApiMessageAttribute>();
        var requests = new Dictionary<ApiKey, Type>();
        var responses = new Dictionary<ApiKey, Type>();
        foreach (var type in typeof(MessageRegistry).Assembly.GetTypes())
        {
            if (type.GetCustomAttribute<ApiMessageAttribute>() is not { } attribute) continue;
            info[type] = attribute;
            var map = attribute.Kind switch
            {
                MessageKind.Request => requests,
                MessageKind.Response => responses,
                _ => null,
            };
            if (map is null) continue;
            if (!map.TryAdd(attribute.ApiKey, type))
                throw new InvalidOperationException(
                    $"Two {attribute.Kind} definitions for {attribute.ApiKey}: {map[attribute.ApiKey]} and {type}.");
        }
        _info = info.ToFrozenDictionary();
        _requests = requests.ToFrozenDictionary();
        _responses = responses.ToFrozenDictionary();
    }

    public static Type? RequestType(ApiKey apiKey) => _requests.GetValueOrDefault(apiKey);

    public static Type? ResponseType(ApiKey apiKey) => _responses.GetValueOrDefault(apiKey);

    /// <summary>
    /// The [ApiMessage] attribute of a message type (also for types outside Samsa.Protocol, which are not
    /// registered by api key); throws for a type that is not a message.
    /// </summary>
    public static ApiMessageAttribute Info(Type type) =>
        TryGetInfo(type, out var info) ? info : throw new ArgumentException($"{type} has no [ApiMessage] attribute.", nameof(type));

    public static bool TryGetInfo(Type type, out ApiMessageAttribute info)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (_info.TryGetValue(type, out info!)) return true;
        info = type.GetCustomAttribute<ApiMessageAttribute>()!;
        return info is not null;
    }

    /// <summary>Requests, responses and data schemas, in no particular order.</summary>
    public static IEnumerable<Type> AllMessageTypes => _info.Keys;

    /// <summary>API keys with a request definition, ascending.</summary>
    public static IEnumerable<ApiKey> ApiKeys => _requests.Keys.Order();
}

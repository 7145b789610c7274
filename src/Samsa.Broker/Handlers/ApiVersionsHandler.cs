// ApiVersions (key 18), versions 0-4.
// Answers from the dispatcher's handler table, so advertised versions are exactly the served ones.
// An unsupported request version is answered by the dispatcher with a v0 UNSUPPORTED_VERSION response listing the
// supported ranges (KIP-511). v3+ records the client's software name and version on the session (KIP-511).
// No features are advertised (no KRaft feature levels yet).
using Samsa.Broker.Api;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class ApiVersionsHandler(Func<List<ApiVersionsResponse.ApiVersion>> supportedVersions)
    : ApiHandler<ApiVersionsRequest, ApiVersionsResponse>
{
    public override ApiKey ApiKey => ApiKey.ApiVersions;
    public override VersionRange Versions => new(0, 4);

    protected override ValueTask<ApiVersionsResponse?> HandleAsync(RequestContext context, ApiVersionsRequest request, CancellationToken cancellationToken)
    {
        if (context.ApiVersion >= 3)
        {
            if (!IsValidSoftwareField(request.ClientSoftwareName) || !IsValidSoftwareField(request.ClientSoftwareVersion))
                return ValueTask.FromResult<ApiVersionsResponse?>(new ApiVersionsResponse
                {
                    ErrorCode = (short)ErrorCode.InvalidRequest,
                    ApiKeys = supportedVersions(),
                });
            context.Session.ClientSoftwareName = request.ClientSoftwareName;
            context.Session.ClientSoftwareVersion = request.ClientSoftwareVersion;
        }
        return ValueTask.FromResult<ApiVersionsResponse?>(new ApiVersionsResponse { ApiKeys = supportedVersions() });
    }

    /// <summary>KIP-511: alphanumerics, '.', '-', starting and ending with an alphanumeric.</summary>
    private static bool IsValidSoftwareField(string value)
    {
        if (value.Length == 0) return true; // older clients on v3 may leave them empty
        if (!char.IsAsciiLetterOrDigit(value[0]) || !char.IsAsciiLetterOrDigit(value[^1])) return false;
        foreach (char c in value)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-')) return false;
        return true;
    }
}

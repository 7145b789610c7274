using System.Text;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// The SASL gate at the wire level (RawKafkaClient on the SASL_PLAINTEXT listener): before authentication only
/// ApiVersions, SaslHandshake and SaslAuthenticate are served; anything else, an oversized request, a failed or
/// unsupported mechanism, or a silent connection past the deadline closes the connection, and nothing is appended.
/// </summary>
public sealed class SaslGateTests : IAsyncLifetime
{
    private static readonly TimeSpan CloseWait = TimeSpan.FromSeconds(5);
    private TestCertificates _pki = null!;
    private TestBroker _broker = null!;

    public async ValueTask InitializeAsync()
    {
        _pki = TestCertificates.Create();
        _broker = await TestBroker.StartAsync(Secure.SaslBroker(_pki, new()
        {
            ["connections.max.reauth.ms"] = "1500",
            ["sasl.server.authentication.timeout.ms"] = "1500",
        }));
    }

    public async ValueTask DisposeAsync()
    {
        await _broker.DisposeAsync();
        _pki.Dispose();
    }

    private Task<RawKafkaClient> ConnectAsync() => RawKafkaClient.ConnectAsync(Secure.Endpoint(_broker, 1));

    private static ProduceRequest OneRecordProduce(string topic) => BadInputHelpers.ProduceRequest(topic, 0, BadInputHelpers.Batch(), acks: 1);

    private static async Task<SaslAuthenticateResponse> PlainLoginAsync(RawKafkaClient client, string user, string password)
    {
        var handshake = await client.RequestAsync<SaslHandshakeResponse>(ApiKey.SaslHandshake, 1, new SaslHandshakeRequest { Mechanism = "PLAIN" });
        Assert.Equal(0, handshake.ErrorCode);
        return await client.RequestAsync<SaslAuthenticateResponse>(ApiKey.SaslAuthenticate, 2,
            new SaslAuthenticateRequest { AuthBytes = Encoding.UTF8.GetBytes($"\0{user}\0{password}") });
    }

    [Fact]
    public async Task Requests_before_authentication_close_the_connection_and_never_reach_a_handler()
    {
        foreach (var (api, version, body) in new (ApiKey, short, object)[]
        {
            (ApiKey.Metadata, 12, new MetadataRequest { Topics = null, AllowAutoTopicCreation = true }),
            (ApiKey.Produce, 9, OneRecordProduce("gate")),
            (ApiKey.CreateTopics, 7, new CreateTopicsRequest { Topics = [new() { Name = "gate-created", NumPartitions = 1, ReplicationFactor = 1 }] }),
        })
        {
            await using var client = await ConnectAsync();
            // ApiVersions is allowed before authentication (clients need it to pick versions).
            var versions = await client.RequestAsync<ApiVersionsResponse>(ApiKey.ApiVersions, 3, new ApiVersionsRequest());
            Assert.Equal(0, versions.ErrorCode);
            await client.SendAsync(api, version, body);
            Assert.True(await client.IsClosedAsync(CloseWait), $"{api} before authentication must close the connection");
        }

        Assert.Contains(_broker.Logs.Lines, l => l.Contains("Produce on listener SASL_PLAINTEXT before SASL authentication", StringComparison.Ordinal));
        // Nothing reached a handler: no topic was auto-created by Metadata or Produce, none by CreateTopics.
        await using var authenticated = await ConnectAsync();
        Assert.Equal(0, (await PlainLoginAsync(authenticated, "bob", "bob-secret")).ErrorCode);
        var metadata = await authenticated.RequestAsync<MetadataResponse>(ApiKey.Metadata, 12, new MetadataRequest { Topics = null });
        Assert.DoesNotContain(metadata.Topics, t => t.Name is "gate" or "gate-created");
    }

    [Fact]
    public async Task Authenticated_connection_is_served_and_gets_the_session_lifetime()
    {
        await using var client = await ConnectAsync();
        var login = await PlainLoginAsync(client, "bob", "bob-secret");
        Assert.Equal(0, login.ErrorCode);
        Assert.Equal(1500, login.SessionLifetimeMs);

        var created = await client.RequestAsync<CreateTopicsResponse>(ApiKey.CreateTopics, 7,
            new CreateTopicsRequest { Topics = [new() { Name = "gate-ok", NumPartitions = 1, ReplicationFactor = 1 }], TimeoutMs = 5000 });
        Assert.Equal(0, created.Topics[0].ErrorCode);
        var produce = await client.RequestAsync<ProduceResponse>(ApiKey.Produce, 9, OneRecordProduce("gate-ok"));
        Assert.Equal(0, produce.Responses[0].PartitionResponses[0].ErrorCode);
    }

    [Fact]
    public async Task Expired_session_closes_the_connection_at_its_next_request_unless_it_reauthenticates()
    {
        await using var reauthenticating = await ConnectAsync();
        await using var lapsing = await ConnectAsync();
        Assert.Equal(0, (await PlainLoginAsync(reauthenticating, "bob", "bob-secret")).ErrorCode);
        Assert.Equal(0, (await PlainLoginAsync(lapsing, "bob", "bob-secret")).ErrorCode);
        var loggedIn = DateTime.UtcNow;

        // Both keep sending requests; one re-authenticates (KIP-368) each round, the other never does and is closed at
        // its first request after the 1.5 s lifetime.
        bool closed = false;
        while (!closed && DateTime.UtcNow - loggedIn < TimeSpan.FromSeconds(10))
        {
            Assert.Equal(0, (await PlainLoginAsync(reauthenticating, "bob", "bob-secret")).ErrorCode);
            Assert.NotNull(await reauthenticating.RequestAsync<MetadataResponse>(ApiKey.Metadata, 12, new MetadataRequest { Topics = [] }));
            try
            {
                await lapsing.RequestAsync<MetadataResponse>(ApiKey.Metadata, 12, new MetadataRequest { Topics = [] });
                await Task.Delay(100);
            }
            catch (Exception e) when (e is EndOfStreamException or IOException)
            {
                closed = true;
            }
        }

        Assert.True(closed, "the connection whose session expired was not closed");
        Assert.True(DateTime.UtcNow - loggedIn >= TimeSpan.FromMilliseconds(1400), "closed before the session lifetime ended");
        Assert.NotNull(await reauthenticating.RequestAsync<MetadataResponse>(ApiKey.Metadata, 12, new MetadataRequest { Topics = [] }));
        Assert.Contains(_broker.Logs.Lines, l => l.Contains("after the SASL session expired", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reauthentication_as_another_user_fails_and_closes()
    {
        await using var client = await ConnectAsync();
        Assert.Equal(0, (await PlainLoginAsync(client, "bob", "bob-secret")).ErrorCode);
        var second = await PlainLoginAsync(client, Secure.AdminUser, Secure.AdminPassword);
        Assert.Equal((short)ErrorCode.SaslAuthenticationFailed, second.ErrorCode);
        Assert.True(await client.IsClosedAsync(CloseWait));
    }

    [Fact]
    public async Task Wrong_password_answers_sasl_authentication_failed_with_a_generic_message_then_closes()
    {
        await using var client = await ConnectAsync();
        var attempt = System.Diagnostics.Stopwatch.StartNew();
        var response = await PlainLoginAsync(client, "bob", "not-bobs-password");

        Assert.Equal((short)ErrorCode.SaslAuthenticationFailed, response.ErrorCode);
        // connection.failed.authentication.delay.ms (100 ms by default) holds the answer back.
        Assert.True(attempt.Elapsed >= TimeSpan.FromMilliseconds(90), $"answered after {attempt.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal("Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN", response.ErrorMessage);
        Assert.True(await client.IsClosedAsync(CloseWait));
        Assert.DoesNotContain(_broker.Logs.Lines, l => l.Contains("not-bobs-password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_user_fails_like_a_wrong_password()
    {
        await using var client = await ConnectAsync();
        var response = await PlainLoginAsync(client, "nobody", "x");
        Assert.Equal((short)ErrorCode.SaslAuthenticationFailed, response.ErrorCode);
        Assert.True(await client.IsClosedAsync(CloseWait));
    }

    [Fact]
    public async Task Unsupported_mechanism_answers_the_enabled_list_then_closes()
    {
        await using var client = await ConnectAsync();
        var response = await client.RequestAsync<SaslHandshakeResponse>(ApiKey.SaslHandshake, 1, new SaslHandshakeRequest { Mechanism = "GSSAPI" });

        Assert.Equal((short)ErrorCode.UnsupportedSaslMechanism, response.ErrorCode);
        Assert.Equal(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], response.Mechanisms);
        Assert.True(await client.IsClosedAsync(CloseWait));
    }

    [Fact]
    public async Task Handshake_v0_raw_token_mode_is_refused_and_closes()
    {
        await using var client = await ConnectAsync();
        var response = await client.RequestAsync<SaslHandshakeResponse>(ApiKey.SaslHandshake, 0, new SaslHandshakeRequest { Mechanism = "PLAIN" });
        Assert.Equal((short)ErrorCode.UnsupportedVersion, response.ErrorCode);
        Assert.Contains("PLAIN", response.Mechanisms);
        Assert.True(await client.IsClosedAsync(CloseWait));
    }

    [Fact]
    public async Task SaslAuthenticate_without_a_handshake_is_an_illegal_state_and_closes()
    {
        await using var client = await ConnectAsync();
        var response = await client.RequestAsync<SaslAuthenticateResponse>(ApiKey.SaslAuthenticate, 1,
            new SaslAuthenticateRequest { AuthBytes = "\0bob\0bob-secret"u8.ToArray() });
        Assert.Equal((short)ErrorCode.IllegalSaslState, response.ErrorCode);
        Assert.True(await client.IsClosedAsync(CloseWait));
    }

    [Fact]
    public async Task Oversized_request_before_authentication_closes_the_connection()
    {
        await using var client = await ConnectAsync();
        await client.SendAsync(ApiKey.SaslHandshake, 1, new SaslHandshakeRequest { Mechanism = "PLAIN" });
        Assert.Equal(0, (await client.ReceiveAsync<SaslHandshakeResponse>()).ErrorCode);
        // 20 KiB token: over sasl.server.max.receive.size (16 KiB), far under socket.request.max.bytes.
        await client.SendAsync(ApiKey.SaslAuthenticate, 2, new SaslAuthenticateRequest { AuthBytes = new byte[20_000] });
        Assert.True(await client.IsClosedAsync(CloseWait));
        Assert.Contains(_broker.Logs.Lines, l => l.Contains("sasl.server.max.receive.size before authentication", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Connection_that_does_not_authenticate_in_time_is_closed()
    {
        await using var client = await ConnectAsync();
        var versions = await client.RequestAsync<ApiVersionsResponse>(ApiKey.ApiVersions, 3, new ApiVersionsRequest());
        Assert.Equal(0, versions.ErrorCode);
        // sasl.server.authentication.timeout.ms is 1.5 s here; connections.max.idle.ms (10 min) would never close it.
        Assert.True(await client.IsClosedAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(_broker.Logs.Lines, l => l.Contains("not authenticated within", StringComparison.Ordinal));
    }
}

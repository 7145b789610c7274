using System.Security.Cryptography.X509Certificates;
using System.Text;
using Samsa.Broker.Configuration;
using Samsa.Broker.Security.Authentication;
using Samsa.Metadata;

namespace Samsa.Broker.Tests.Security;

public sealed class ScramSaslServerTests
{
    private static readonly byte[] s_salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");

    private static Func<string, ScramMechanism, ScramCredentialImage?> Store(string user, string password)
    {
        var salted = ScramMechanism.ScramSha256.SaltedPassword(password, s_salt, 4096);
        var credential = new ScramCredentialImage(s_salt, ScramMechanism.ScramSha256.StoredKey(salted), ScramMechanism.ScramSha256.ServerKey(salted), 4096);
        return (u, m) => u == user && m == ScramMechanism.ScramSha256 ? credential : null;
    }

    [Fact]
    public void Rfc7677_exchange_is_verified_and_signed()
    {
        // RFC 7677 section 3: user "user", password "pencil".
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Store("user", "pencil"), () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");

        var serverFirst = Encoding.UTF8.GetString(server.Evaluate("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"u8));
        Assert.Equal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", serverFirst);
        var serverFinal = Encoding.UTF8.GetString(server.Evaluate(
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="u8));

        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", serverFinal);
        Assert.True(server.IsComplete);
        Assert.Equal("user", server.AuthenticatedUser);
    }

    [Fact]
    public void Wrong_proof_fails_and_the_exchange_cannot_continue()
    {
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Store("user", "not-pencil"), () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
        server.Evaluate("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"u8);

        Assert.Throws<SaslAuthenticationException>(() => server.Evaluate(
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="u8));
        Assert.False(server.IsComplete);
        Assert.Throws<SaslAuthenticationException>(() => server.Evaluate("anything"u8));
    }

    [Theory]
    [InlineData("p=tls-unique,,n=user,r=abc")] // channel binding
    [InlineData("n,,n=user,r=abc,tokenauth=true")] // delegation tokens
    [InlineData("n,,n=nobody,r=abc")] // unknown user
    [InlineData("n,,n=us=er,r=abc")] // bad saslname escape
    [InlineData("n,a=other,n=user,r=abc")] // authzid differs from the user
    [InlineData("garbage")]
    public void Malformed_or_refused_client_first_messages_fail(string message)
    {
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Store("user", "pencil"));
        Assert.Throws<SaslAuthenticationException>(() => server.Evaluate(Encoding.UTF8.GetBytes(message)));
    }

    [Fact]
    public void Librdkafka_2_0_doubled_client_nonce_is_accepted_when_the_proof_signs_it()
    {
        // librdkafka 2.0.x sends r=<client nonce><client nonce><server nonce>; the proof covers that exact message.
        var salted = ScramMechanism.ScramSha256.SaltedPassword("pencil", s_salt, 4096);
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Store("user", "pencil"), () => "SRV");
        var serverFirst = Encoding.UTF8.GetString(server.Evaluate("n,,n=user,r=CLI"u8));
        string withoutProof = "c=biws,r=CLICLISRV";
        var authMessage = Encoding.UTF8.GetBytes($"n=user,r=CLI,{serverFirst},{withoutProof}");
        var clientKey = ScramMechanism.ScramSha256.Hmac(salted, "Client Key"u8);
        var signature = ScramMechanism.ScramSha256.Hmac(ScramMechanism.ScramSha256.Digest(clientKey), authMessage);
        for (int i = 0; i < clientKey.Length; i++) clientKey[i] ^= signature[i];

        server.Evaluate(Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(clientKey)}"));
        Assert.True(server.IsComplete);
    }

    [Fact]
    public void Nonce_mismatch_in_client_final_fails()
    {
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, Store("user", "pencil"), () => "server");
        server.Evaluate("n,,n=user,r=client"u8);
        Assert.Throws<SaslAuthenticationException>(() => server.Evaluate("c=biws,r=clientOTHER,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="u8));
    }
}

public sealed class PlainSaslServerTests
{
    private static readonly Dictionary<string, string> s_users = new() { ["alice"] = "alice-secret" };

    [Fact]
    public void Valid_credentials_authenticate()
    {
        var server = new PlainSaslServer(s_users);
        server.Evaluate("\0alice\0alice-secret"u8);
        Assert.Equal("alice", server.AuthenticatedUser);
    }

    [Theory]
    [InlineData("\0alice\0wrong")]
    [InlineData("\0alice\0alice-secret-and-more")]
    [InlineData("\0bob\0alice-secret")]
    [InlineData("bob\0alice\0alice-secret")] // authorization id differs
    [InlineData("\0alice")]
    [InlineData("\0\0alice-secret")]
    [InlineData("\0alice\0")]
    public void Bad_messages_or_credentials_fail(string message)
    {
        var server = new PlainSaslServer(s_users);
        var failure = Assert.Throws<SaslAuthenticationException>(() => server.Evaluate(Encoding.UTF8.GetBytes(message)));
        Assert.DoesNotContain("alice-secret", failure.Message);
        Assert.False(server.IsComplete);
    }
}

public sealed class JaasConfigTests
{
    [Fact]
    public void Parses_kafkas_plain_login_module_entry()
    {
        var jaas = JaasConfig.Parse("k", """
            org.apache.kafka.common.security.plain.PlainLoginModule required
              username="admin" password="admin-secret"
              user_admin="admin-secret" user_alice="a \"quoted\" secret";
            """);

        Assert.Equal(JaasConfig.PlainLoginModule, jaas.LoginModule);
        Assert.Equal("admin", jaas.Username);
        Assert.Equal("admin-secret", jaas.Password);
        Assert.Equal(new Dictionary<string, string> { ["admin"] = "admin-secret", ["alice"] = "a \"quoted\" secret" }, jaas.PlainUsers());
    }

    [Theory]
    [InlineData("org.Foo required username=\"a\"")] // no ';'
    [InlineData("org.Foo username=\"a\";")] // no control flag
    [InlineData("org.Foo required password=\"s3cr3t-value;")]
    [InlineData("org.Foo required a=\"1\"; org.Bar required b=\"2\";")]
    public void Invalid_entries_are_refused_without_echoing_secrets(string text)
    {
        var failure = Assert.Throws<ConfigException>(() => JaasConfig.Parse("listener.name.x.plain.sasl.jaas.config", text));
        Assert.DoesNotContain("s3cr3t", failure.Message);
        Assert.Contains("[hidden]", failure.Message);
    }
}

public sealed class PrincipalMapperTests
{
    [Fact]
    public void Default_rule_gives_the_rfc2253_subject()
    {
        var name = new X500DistinguishedName("CN=alice, OU=eng, O=\"Example, Inc\", C=FR");
        string dn = PrincipalMapper.Rfc2253(name);
        Assert.Equal("CN=alice,OU=eng,O=Example\\, Inc,C=FR", dn);
        Assert.Equal(dn, PrincipalMapper.Default.Map(dn));
    }

    [Fact]
    public void Rules_apply_in_order_with_case_flags_and_fall_back_to_default()
    {
        var mapper = PrincipalMapper.Parse("ssl.principal.mapping.rules",
            "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, RULE:^CN=([^,]*),O=(.*)$/$1@$2/U,\nDEFAULT");

        Assert.Equal("kafka-svc", mapper.Map("CN=Kafka-Svc,OU=ServiceUsers,O=Org"));
        Assert.Equal("BOB@ORG", mapper.Map("CN=bob,O=Org"));
        Assert.Equal("CN=carol,OU=x", mapper.Map("CN=carol,OU=x"));
    }

    [Fact]
    public void No_applicable_rule_means_no_principal()
    {
        var mapper = PrincipalMapper.Parse("ssl.principal.mapping.rules", "RULE:^CN=admin$/admin/");
        Assert.Null(mapper.Map("CN=someone-else"));
    }

    [Fact]
    public void Malformed_rules_are_refused()
    {
        Assert.Throws<ConfigException>(() => PrincipalMapper.Parse("ssl.principal.mapping.rules", "RULE:^CN=(.*$/$1/"));
        Assert.Throws<ConfigException>(() => PrincipalMapper.Parse("ssl.principal.mapping.rules", "SOMETHING"));
    }
}

public sealed class ListenerAuthenticationTests
{
    private static BrokerConfig Config(Dictionary<string, string> values)
    {
        values.TryAdd("log.dirs", "/tmp/unused");
        return BrokerConfig.FromValues(values, initializeLogDirs: false);
    }

    [Fact]
    public void Listener_prefixed_keys_win_and_plain_users_come_from_the_listeners_jaas_entry()
    {
        var config = Config(new()
        {
            ["listeners"] = "INTERNAL://127.0.0.1:0,EXTERNAL://127.0.0.1:0",
            ["listener.security.protocol.map"] = "INTERNAL:SASL_PLAINTEXT,EXTERNAL:SASL_PLAINTEXT",
            ["sasl.enabled.mechanisms"] = "SCRAM-SHA-512",
            ["listener.name.internal.sasl.enabled.mechanisms"] = "PLAIN",
            ["listener.name.internal.plain.sasl.jaas.config"] =
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"b\" password=\"p\" user_b=\"p\" user_c=\"q\";",
            ["connections.max.reauth.ms"] = "60000",
        });

        var internalListener = ListenerAuthentication.From(config, config.Listeners[0]);
        var externalListener = ListenerAuthentication.From(config, config.Listeners[1]);

        Assert.Equal(["PLAIN"], internalListener.EnabledMechanisms);
        Assert.Equal(["b", "c"], internalListener.PlainUsers.Keys.Order());
        Assert.Equal(60000, internalListener.MaxReauthMs);
        Assert.Equal(["SCRAM-SHA-512"], externalListener.EnabledMechanisms);
        Assert.Empty(externalListener.PlainUsers);
    }

    [Fact]
    public void Unsupported_mechanism_is_a_config_error()
    {
        var config = Config(new()
        {
            ["listeners"] = "SASL_PLAINTEXT://127.0.0.1:0",
            ["sasl.enabled.mechanisms"] = "GSSAPI",
        });
        var failure = Assert.Throws<ConfigException>(() => ListenerAuthentication.From(config, config.Listeners[0]));
        Assert.Contains("GSSAPI", failure.Message);
    }

    [Fact]
    public void Tls_listener_without_a_key_store_is_a_config_error()
    {
        var config = Config(new() { ["listeners"] = "SSL://127.0.0.1:0" });
        var failure = Assert.Throws<ConfigException>(() => ListenerAuthentication.From(config, config.Listeners[0]));
        Assert.Contains("ssl.keystore.location", failure.Message);
    }
}

public sealed class SaslClientTests
{
    [Fact]
    public void Rfc7677_client_messages_and_server_signature()
    {
        var client = new ScramSaslClient(ScramMechanism.ScramSha256, "user", "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO");
        Assert.Equal("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", Encoding.UTF8.GetString(client.Next([])));
        var final = client.Next("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"u8);
        Assert.Equal("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", Encoding.UTF8.GetString(final));
        client.Next("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="u8);
        Assert.True(client.IsComplete);
    }

    [Theory]
    [InlineData(ScramMechanism.ScramSha256)]
    [InlineData(ScramMechanism.ScramSha512)]
    public void Client_and_server_agree_and_a_forged_server_signature_is_refused(ScramMechanism mechanism)
    {
        var salt = new byte[] { 9, 8, 7, 6 };
        var salted = mechanism.SaltedPassword("p@ss,word=", salt, 4096);
        var credential = new ScramCredentialImage(salt, mechanism.StoredKey(salted), mechanism.ServerKey(salted), 4096);
        var server = new ScramSaslServer(mechanism, (u, m) => u == "we,ird=name" && m == mechanism ? credential : null);
        var client = new ScramSaslClient(mechanism, "we,ird=name", "p@ss,word=");

        byte[] token = client.Next([]);
        while (!client.IsComplete) token = client.Next(server.Evaluate(token));
        Assert.Equal("we,ird=name", server.AuthenticatedUser);

        // A server that answers the final step with a signature it could not compute (it lacks the ServerKey) is refused.
        var fooled = new ScramSaslClient(mechanism, "we,ird=name", "p@ss,word=");
        var impostor = new ScramSaslServer(mechanism, (_, _) => credential);
        fooled.Next(impostor.Evaluate(fooled.Next([])));
        Assert.Throws<SaslAuthenticationException>(() => fooled.Next("v=AAAA"u8));
        Assert.False(fooled.IsComplete);
    }
}

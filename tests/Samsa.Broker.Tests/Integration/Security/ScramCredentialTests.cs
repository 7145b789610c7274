using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Samsa.Protocol;
using ErrorCode = Samsa.Protocol.ErrorCode;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Tests.Integration.Security;

/// <summary>
/// SCRAM credentials administered with Confluent's AdminClient (AlterUserScramCredentials / DescribeUserScramCredentials):
/// describe shows users, mechanisms and iterations only; credentials live in the metadata log (never the password) and
/// survive a restart; Kafka's validation errors per user.
/// </summary>
public sealed class ScramCredentialTests
{
    [Fact]
    public async Task Describe_lists_users_mechanisms_and_iterations_and_users_survive_a_restart()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));
        AdminClientConfig AdminConfig() => Secure.SaslPlaintext(new AdminClientConfig(), broker, SaslMechanism.Plain, Secure.AdminUser, Secure.AdminPassword);
        using (var admin = new AdminClientBuilder(AdminConfig()).Build())
        {
            await Secure.CreateScramUserAsync(admin, "alice", "alice-password-1", ScramMechanism.ScramSha512, 8192);
            await Secure.CreateScramUserAsync(admin, "alice", "alice-password-1", ScramMechanism.ScramSha256, 4096);
            await Secure.CreateScramUserAsync(admin, "carol", "carol-password-1", ScramMechanism.ScramSha256, 10000);

            var described = await admin.DescribeUserScramCredentialsAsync([]);
            var rows = described.UserScramCredentialsDescriptions
                .SelectMany(d => d.ScramCredentialInfos.Select(i => $"{d.User}:{i.Mechanism}:{i.Iterations}")).Order().ToList();
            Assert.Equal(["alice:ScramSha256:4096", "alice:ScramSha512:8192", "carol:ScramSha256:10000"], rows);
        }

        // On the wire the answer carries no salt or key; the metadata log holds neither the password nor the salted password.
        await using (var raw = await RawKafkaClient.ConnectAsync(Secure.Endpoint(broker, 1)))
        {
            await raw.RequestAsync<SaslHandshakeResponse>(ApiKey.SaslHandshake, 1, new SaslHandshakeRequest { Mechanism = "PLAIN" });
            await raw.RequestAsync<SaslAuthenticateResponse>(ApiKey.SaslAuthenticate, 2,
                new SaslAuthenticateRequest { AuthBytes = Encoding.UTF8.GetBytes($"\0{Secure.AdminUser}\0{Secure.AdminPassword}") });
            await raw.SendAsync(ApiKey.DescribeUserScramCredentials, 0, new DescribeUserScramCredentialsRequest { Users = null });
            var frame = await raw.ReceiveFrameAsync();
            Assert.True(frame.Length < 200, $"describe answer of {frame.Length} bytes for 2 users: salts or keys leaked?");
        }
        var metadataLog = Directory.EnumerateFiles(broker.DataDir, "metadata.log", SearchOption.AllDirectories).Single();
        string logText = await File.ReadAllTextAsync(metadataLog);
        Assert.Contains("user-scram-credential", logText);
        Assert.DoesNotContain("alice-password-1", logText);

        await broker.RestartAsync();

        using (var admin = new AdminClientBuilder(AdminConfig()).Build())
        {
            var described = await admin.DescribeUserScramCredentialsAsync(["alice"]);
            Assert.Equal(2, described.UserScramCredentialsDescriptions.Single().ScramCredentialInfos.Count);
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "after-restart", NumPartitions = 1, ReplicationFactor = 1 }]);
        }
        // The replayed credential authenticates.
        var values = await Secure.RoundTripAsync(c => Secure.SaslPlaintext(c, broker, SaslMechanism.ScramSha512, "alice", "alice-password-1"), "after-restart", 3);
        Assert.Equal(3, values.Count);
    }

    [Fact]
    public async Task Removed_user_can_no_longer_log_in_and_describe_reports_it_missing()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));
        using var admin = new AdminClientBuilder(Secure.SaslPlaintext(new AdminClientConfig(), broker, SaslMechanism.Plain, Secure.AdminUser, Secure.AdminPassword)).Build();
        await Secure.CreateScramUserAsync(admin, "dave", "dave-secret", ScramMechanism.ScramSha256);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "dave-topic", NumPartitions = 1, ReplicationFactor = 1 }]);
        Assert.Single(await Secure.RoundTripAsync(c => Secure.SaslPlaintext(c, broker, SaslMechanism.ScramSha256, "dave", "dave-secret"), "dave-topic", 1));

        await admin.AlterUserScramCredentialsAsync([new UserScramCredentialDeletion { User = "dave", Mechanism = ScramMechanism.ScramSha256 }]);

        var missing = await Assert.ThrowsAsync<DescribeUserScramCredentialsException>(() => admin.DescribeUserScramCredentialsAsync(["dave"]));
        Assert.Equal(Confluent.Kafka.ErrorCode.ResourceNotFound, missing.Results.UserScramCredentialsDescriptions.Single().Error.Code);
        var config = Secure.SaslPlaintext(new ProducerConfig { MessageTimeoutMs = 3000 }, broker, SaslMechanism.ScramSha256, "dave", "dave-secret");
        using var producer = new ProducerBuilder<Null, string>(config).Build();
        await Assert.ThrowsAsync<ProduceException<Null, string>>(() => producer.ProduceAsync("dave-topic", new Message<Null, string> { Value = "x" }));
    }

    [Fact]
    public async Task Invalid_alterations_get_kafkas_per_user_errors()
    {
        using var pki = TestCertificates.Create();
        await using var broker = await TestBroker.StartAsync(Secure.SaslBroker(pki));
        await using var raw = await RawKafkaClient.ConnectAsync(Secure.Endpoint(broker, 1));
        await raw.RequestAsync<SaslHandshakeResponse>(ApiKey.SaslHandshake, 1, new SaslHandshakeRequest { Mechanism = "PLAIN" });
        await raw.RequestAsync<SaslAuthenticateResponse>(ApiKey.SaslAuthenticate, 2,
            new SaslAuthenticateRequest { AuthBytes = Encoding.UTF8.GetBytes($"\0{Secure.AdminUser}\0{Secure.AdminPassword}") });

        static AlterUserScramCredentialsRequest.ScramCredentialUpsertion Upsert(string name, sbyte mechanism, int iterations) =>
            new() { Name = name, Mechanism = mechanism, Iterations = iterations, Salt = [1, 2, 3], SaltedPassword = new byte[64] };
        var response = await raw.RequestAsync<AlterUserScramCredentialsResponse>(ApiKey.AlterUserScramCredentials, 0, new AlterUserScramCredentialsRequest
        {
            Deletions = [new() { Name = "ghost", Mechanism = 1 }, new() { Name = "twice", Mechanism = 1 }],
            Upsertions =
            [
                Upsert("few", 2, 1000), Upsert("many", 2, 20000), Upsert("weird", 7, 8192), Upsert("", 1, 8192),
                Upsert("twice", 2, 8192), Upsert("fine", 2, 4096),
            ],
        });

        var errors = response.Results.ToDictionary(r => r.User, r => ((ErrorCode)r.ErrorCode, r.ErrorMessage));
        Assert.Equal((ErrorCode.ResourceNotFound, "Attempt to delete a user credential that does not exist"), errors["ghost"]);
        Assert.Equal((ErrorCode.UnacceptableCredential, "Too few iterations"), errors["few"]);
        Assert.Equal((ErrorCode.UnacceptableCredential, "Too many iterations"), errors["many"]);
        Assert.Equal((ErrorCode.UnsupportedSaslMechanism, "Unknown SCRAM mechanism"), errors["weird"]);
        Assert.Equal((ErrorCode.UnacceptableCredential, "Username must not be empty"), errors[""]);
        Assert.Equal(ErrorCode.ResourceNotFound, errors["twice"].Item1); // the deletion failed first, the upsertion is skipped
        Assert.Equal((ErrorCode.None, (string?)null), errors["fine"]);
    }
}

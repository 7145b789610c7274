using Microsoft.Extensions.Logging;
using Samsa.Broker.Configuration;
using Samsa.Metadata;

namespace Samsa.Broker.Security.Authorization;

/// <summary>Builds the broker's authorizer from authorizer.class.name, super.users and allow.everyone.if.no.acl.found.</summary>
public static class Authorizers
{
    public static IAuthorizer Create(BrokerConfig config, IMetadataLog metadata, ILoggerFactory loggerFactory)
    {
        string name = config.GetString("authorizer.class.name")?.Trim() ?? "";
        if (name.Length == 0) return AllowAllAuthorizer.Instance;
        if (!AclAuthorizer.ClassNames.Contains(name, StringComparer.Ordinal))
            throw ConfigException.InvalidValue("authorizer.class.name", name, $"must be empty or one of {string.Join(", ", AclAuthorizer.ClassNames)}");
        var superUsers = AclAuthorizer.ParseSuperUsers(config.GetString("super.users"));
        bool allowEveryone = bool.Parse(config.GetString("allow.everyone.if.no.acl.found") ?? "false");
        var logger = loggerFactory.CreateLogger<AclAuthorizer>();
        logger.LogInformation("ACL authorizer enabled: {SuperUsers} super user(s), allow.everyone.if.no.acl.found={AllowEveryone}, {Acls} ACL(s)",
            superUsers.Count, allowEveryone, metadata.Image.Acls.Count);
        return new AclAuthorizer(metadata, superUsers, allowEveryone, logger);
    }
}

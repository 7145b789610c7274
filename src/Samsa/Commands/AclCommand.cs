using System.CommandLine;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa acl add|list|remove</c>: ACL administration over CreateAcls, DescribeAcls and DeleteAcls, with
/// kafka-acls.sh's options (--allow-principal, --deny-principal, --operation, --topic, --group, --cluster,
/// --resource-pattern-type). Transactional-id ACLs are not offered: librdkafka's ACL API has no such resource type.
/// </summary>
internal static class AclCommand
{
    public static Command Create()
    {
        var command = new Command("acl", "Add, list and remove ACLs (needs authorizer.class.name on the brokers).");
        command.Subcommands.Add(CreateAdd());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateRemove());
        return command;
    }

    /// <summary>The resource options shared by every subcommand.</summary>
    private sealed class ResourceOptions
    {
        public Option<string[]> Topics { get; } = new("--topic") { Description = "Topic name, or prefix with --resource-pattern-type prefixed (repeatable).", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        public Option<string[]> Groups { get; } = new("--group") { Description = "Consumer group id, or prefix (repeatable).", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        public Option<bool> Cluster { get; } = new("--cluster") { Description = "The cluster resource (kafka-cluster)." };
        public Option<string> PatternType { get; }

        public ResourceOptions(string defaultPattern, params string[] allowed)
        {
            PatternType = new("--resource-pattern-type")
            {
                Description = $"Resource pattern type: {string.Join(", ", allowed)} (default {defaultPattern}). 'match' selects every ACL that applies to the named resources.",
                DefaultValueFactory = _ => defaultPattern,
            };
            PatternType.AcceptOnlyFromAmong(allowed);
        }

        public void AddTo(Command command)
        {
            command.Options.Add(Topics);
            command.Options.Add(Groups);
            command.Options.Add(Cluster);
            command.Options.Add(PatternType);
        }

        public List<(ResourceType Type, string Name)> Resources(ParseResult parseResult)
        {
            var resources = new List<(ResourceType, string)>();
            resources.AddRange((parseResult.GetValue(Topics) ?? []).Select(t => (ResourceType.Topic, t)));
            resources.AddRange((parseResult.GetValue(Groups) ?? []).Select(g => (ResourceType.Group, g)));
            if (parseResult.GetValue(Cluster)) resources.Add((ResourceType.Broker, "kafka-cluster"));
            return resources;
        }

        public ResourcePatternType Pattern(ParseResult parseResult) =>
            Enum.Parse<ResourcePatternType>(parseResult.GetValue(PatternType)!, ignoreCase: true);
    }

    private static Option<string[]> OperationsOption(string description) => new("--operation")
    {
        Description = description + " Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All.",
        Arity = ArgumentArity.ZeroOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    private static List<AclOperation> Operations(ParseResult parseResult, Option<string[]> option)
    {
        var operations = new List<AclOperation>();
        foreach (var name in parseResult.GetValue(option) ?? [])
        {
            if (!Enum.TryParse<AclOperation>(name.Replace("_", "", StringComparison.Ordinal), ignoreCase: true, out var op) || op is AclOperation.Unknown or AclOperation.Any)
                throw CliException.Usage($"--operation: unknown operation '{name}'");
            operations.Add(op);
        }
        return operations;
    }

    private static Command CreateAdd()
    {
        var resources = new ResourceOptions("literal", "literal", "prefixed");
        var allow = new Option<string[]>("--allow-principal") { Description = "Principal to allow, e.g. User:alice or User:* (repeatable).", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        var deny = new Option<string[]>("--deny-principal") { Description = "Principal to deny (repeatable).", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };
        var host = new Option<string>("--host") { Description = "Client address the ACLs apply to (default * = any).", DefaultValueFactory = _ => "*" };
        var operations = OperationsOption("Operation to allow or deny (repeatable, required).");
        var client = new ClientOptions();
        var command = new Command("add", "Add ACLs: each principal × operation × resource.") { allow, deny, host, operations };
        resources.AddTo(command);
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var targets = resources.Resources(parseResult);
            var ops = Operations(parseResult, operations);
            var principals = (parseResult.GetValue(allow) ?? []).Select(p => (p, AclPermissionType.Allow))
                .Concat((parseResult.GetValue(deny) ?? []).Select(p => (p, AclPermissionType.Deny))).ToList();
            if (targets.Count == 0) throw CliException.Usage("give a resource: --topic, --group or --cluster");
            if (ops.Count == 0) throw CliException.Usage("give at least one --operation");
            if (principals.Count == 0) throw CliException.Usage("give --allow-principal or --deny-principal");
            var pattern = resources.Pattern(parseResult);
            var bindings = (from t in targets from p in principals from op in ops
                select new AclBinding
                {
                    Pattern = new ResourcePattern { Type = t.Type, Name = t.Name, ResourcePatternType = pattern },
                    Entry = new AccessControlEntry { Principal = p.Item1, Host = parseResult.GetValue(host)!, Operation = op, PermissionType = p.Item2 },
                }).ToList();
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            try
            {
                await session.Watch.WaitAsync(session.Admin.CreateAclsAsync(bindings, new CreateAclsOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            }
            catch (CreateAclsException e)
            {
                int failed = 0;
                for (int i = 0; i < e.Results.Count && i < bindings.Count; i++)
                {
                    if (!e.Results[i].Error.IsError) continue;
                    failed++;
                    await Console.Error.WriteLineAsync($"samsa: error: could not add {Describe(bindings[i])}: {Output.Describe(e.Results[i].Error)}").ConfigureAwait(false);
                }
                if (failed > 0) return ExitCodes.Error;
            }
            foreach (var binding in bindings) Output.Info($"Added {Describe(binding)}");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateList()
    {
        var resources = new ResourceOptions("literal", "any", "match", "literal", "prefixed");
        var principal = new Option<string>("--principal") { Description = "Only ACLs of this principal." };
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("list", "List ACLs, all of them or those of the given resources (and principal).") { principal, format };
        resources.AddTo(command);
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            var filters = Filters(parseResult, resources, parseResult.GetValue(principal), []);
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            var found = new List<AclBinding>();
            foreach (var filter in filters)
            {
                var result = await session.Watch.WaitAsync(session.Admin.DescribeAclsAsync(filter, new DescribeAclsOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
                found.AddRange(result.AclBindings);
            }
            Write(parseResult, format, found.Distinct().ToList());
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command CreateRemove()
    {
        var resources = new ResourceOptions("literal", "any", "match", "literal", "prefixed");
        var principal = new Option<string>("--principal") { Description = "Only ACLs of this principal." };
        var operations = OperationsOption("Only ACLs of this operation (repeatable; default any).");
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("remove", "Remove the ACLs of the given resources (and principal, operations); prints what was removed.") { principal, operations, format };
        resources.AddTo(command);
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            if (resources.Resources(parseResult).Count == 0 && parseResult.GetValue(principal) is null)
                throw CliException.Usage("give a resource (--topic, --group, --cluster) or --principal: refusing to remove every ACL");
            var filters = Filters(parseResult, resources, parseResult.GetValue(principal), Operations(parseResult, operations));
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            List<DeleteAclsResult> results;
            try
            {
                results = await session.Watch.WaitAsync(session.Admin.DeleteAclsAsync(filters, new DeleteAclsOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            }
            catch (DeleteAclsException e)
            {
                foreach (var report in e.Results.Where(r => r.Error.IsError))
                    await Console.Error.WriteLineAsync($"samsa: error: {Output.Describe(report.Error)}").ConfigureAwait(false);
                return ExitCodes.Error;
            }
            Write(parseResult, format, results.SelectMany(r => r.AclBindings).Distinct().ToList());
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>One filter per resource (or one for every resource) × operation (or any).</summary>
    private static List<AclBindingFilter> Filters(ParseResult parseResult, ResourceOptions resources, string? principal, List<AclOperation> operations)
    {
        var targets = resources.Resources(parseResult);
        var pattern = targets.Count == 0 ? ResourcePatternType.Any : resources.Pattern(parseResult);
        var patterns = targets.Count == 0 ? [(ResourceType.Any, (string?)null)] : targets.Select(t => (t.Type, (string?)t.Name)).ToList();
        var ops = operations.Count == 0 ? [AclOperation.Any] : operations;
        return (from p in patterns from op in ops
            select new AclBindingFilter
            {
                PatternFilter = new ResourcePatternFilter { Type = p.Item1, Name = p.Item2, ResourcePatternType = pattern },
                EntryFilter = new AccessControlEntryFilter { Principal = principal, Host = null, Operation = op, PermissionType = AclPermissionType.Any },
            }).ToList();
    }

    private static string TypeName(ResourceType type) => type == ResourceType.Broker ? "Cluster" : type.ToString();

    private static string Describe(AclBinding b) =>
        $"{b.Entry.PermissionType} {b.Entry.Principal} {b.Entry.Operation} from {b.Entry.Host} on {TypeName(b.Pattern.Type)}:{b.Pattern.ResourcePatternType}:{b.Pattern.Name}";

    private static void Write(ParseResult parseResult, Option<string> format, List<AclBinding> bindings)
    {
        var ordered = bindings.OrderBy(b => b.Pattern.Type).ThenBy(b => b.Pattern.Name, StringComparer.Ordinal).ThenBy(b => b.Pattern.ResourcePatternType)
            .ThenBy(b => b.Entry.Principal, StringComparer.Ordinal).ThenBy(b => b.Entry.Operation).ToList();
        if (Output.GetFormat(parseResult, format) == OutputFormat.Json)
        {
            var array = new JsonArray();
            foreach (var b in ordered)
                array.Add(new JsonObject
                {
                    ["resourceType"] = TypeName(b.Pattern.Type), ["patternType"] = b.Pattern.ResourcePatternType.ToString(), ["name"] = b.Pattern.Name,
                    ["principal"] = b.Entry.Principal, ["host"] = b.Entry.Host, ["operation"] = b.Entry.Operation.ToString(),
                    ["permission"] = b.Entry.PermissionType.ToString(),
                });
            Output.WriteJson(array);
            return;
        }
        var table = new TextTable("RESOURCE-TYPE", "PATTERN", "NAME", "PRINCIPAL", "HOST", "OPERATION", "PERMISSION");
        foreach (var b in ordered)
            table.Add(TypeName(b.Pattern.Type), b.Pattern.ResourcePatternType, b.Pattern.Name, b.Entry.Principal, b.Entry.Host, b.Entry.Operation, b.Entry.PermissionType);
        table.Write(Console.Out);
    }
}

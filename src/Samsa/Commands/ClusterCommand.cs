using System.CommandLine;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Samsa.Commands;

/// <summary>
/// <c>samsa cluster describe</c>: cluster id, active controller and brokers (endpoints, racks) from the
/// DescribeCluster API, like kafka-cluster.sh cluster-id and kafka-broker-api-versions.sh's broker list.
/// </summary>
internal static partial class ClusterCommand
{
    public static Command Create()
    {
        var command = new Command("cluster", "Describe the cluster: id, controller and brokers.");
        command.Subcommands.Add(CreateDescribe());
        command.Subcommands.Add(CreateRebalance());
        command.Subcommands.Add(CreateReassignments());
        return command;
    }

    private static Command CreateDescribe()
    {
        var format = Output.CreateFormatOption();
        var client = new ClientOptions();
        var command = new Command("describe", "Show the cluster id, the active controller and every broker with its endpoint and rack.") { format };
        client.AddTo(command);
        command.SetAction((parseResult, ct) => Output.RunAsync(async () =>
        {
            var settings = client.Bind(parseResult);
            using var session = await AdminSession.OpenAsync(settings, ct).ConfigureAwait(false);
            var cluster = await session.Watch.WaitAsync(
                session.Admin.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = settings.Timeout }), ct).ConfigureAwait(false);
            var brokers = cluster.Nodes.OrderBy(n => n.Id).ToList();
            int? controller = cluster.Controller?.Id;

            if (Output.GetFormat(parseResult, format) == OutputFormat.Json)
            {
                var array = new JsonArray();
                foreach (var node in brokers)
                {
                    array.Add(new JsonObject
                    {
                        ["id"] = node.Id,
                        ["host"] = node.Host,
                        ["port"] = node.Port,
                        ["rack"] = node.Rack,
                        ["controller"] = node.Id == controller,
                    });
                }

                Output.WriteJson(new JsonObject
                {
                    ["clusterId"] = cluster.ClusterId,
                    ["controller"] = controller,
                    ["brokers"] = array,
                });
            }
            else
            {
                Console.Out.WriteLine($"Cluster id: {cluster.ClusterId ?? "-"}");
                Console.Out.WriteLine($"Controller: {(controller is { } id ? id.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-")}");
                Console.Out.WriteLine();
                var table = new TextTable("ID", "HOST", "PORT", "RACK", "CONTROLLER");
                foreach (var node in brokers)
                {
                    table.Add(node.Id, node.Host, node.Port, string.IsNullOrEmpty(node.Rack) ? "-" : node.Rack, node.Id == controller ? "*" : "");
                }

                table.Write(Console.Out);
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}

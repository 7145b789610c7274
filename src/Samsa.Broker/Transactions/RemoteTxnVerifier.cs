using Microsoft.Extensions.Logging;
using Samsa.Broker.Network.InterBroker;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Transactions;

/// <summary>
/// KIP-890 part 1 across nodes: asks the coordinator of a transactional id, over the inter-broker client, whether a
/// partition is in the producer's open transaction (AddPartitionsToTxn v4+ with verify_only, as Kafka's brokers do).
/// An unreachable coordinator answers COORDINATOR_NOT_AVAILABLE (retriable for the producer).
/// </summary>
internal sealed class RemoteTxnVerifier(BrokerChannelPool interBroker, ILogger<RemoteTxnVerifier> logger)
{
    public async Task<ErrorCode> VerifyAsync(int coordinator, string transactionalId, long producerId, short epoch, TxnPartition partition,
        CancellationToken cancellationToken)
    {
        var request = new AddPartitionsToTxnRequest
        {
            Transactions =
            [
                new AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction
                {
                    TransactionalId = transactionalId, ProducerId = producerId, ProducerEpoch = epoch, VerifyOnly = true,
                    Topics = [new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic { Name = partition.Topic, Partitions = [partition.Partition] }],
                },
            ],
        };
        try
        {
            var response = await interBroker.Get(coordinator).SendAsync<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>(
                request, version: null, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (response.ErrorCode != 0) return (ErrorCode)response.ErrorCode;
            var result = response.ResultsByTransaction.FirstOrDefault(r => r.TransactionalId == transactionalId);
            var code = result?.TopicResults.FirstOrDefault(t => t.Name == partition.Topic)?.ResultsByPartition
                .FirstOrDefault(p => p.PartitionIndex == partition.Partition)?.PartitionErrorCode;
            return code is { } c ? (ErrorCode)c : ErrorCode.UnknownServerError;
        }
        catch (Exception e) when (e is IOException or TimeoutException or Samsa.Protocol.Serialization.ProtocolException or ObjectDisposedException)
        {
            logger.LogInformation("Verifying a transaction with coordinator node {Node} failed: {Reason}", coordinator, e.Message);
            return ErrorCode.CoordinatorNotAvailable;
        }
    }
}

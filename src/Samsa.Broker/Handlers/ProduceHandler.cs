// Produce (key 0), versions 3-11 (message format v2 only; Kafka 4 also dropped v0-2).
// Per partition: WRITE authorization, topic/partition existence, then the batch is validated at the edge without
// per-record work for compressed batches (framing, magic 2 — v0/v1 message sets answer
// UNSUPPORTED_FOR_MESSAGE_FORMAT —, CRC-32C, exactly one batch (v3+ rule), record count, producer fields,
// max.message.bytes → MESSAGE_TOO_LARGE), then appended as opaque bytes with offsets patched in place.
// acks: 0 (no response), 1 (answered after the leader's group-commit fsync when the flush policy says so) and -1
// (additionally waits until the high watermark covers the batch: every ISR member has it on disk; refused before the
// append with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas, NOT_ENOUGH_REPLICAS_AFTER_APPEND when it
// shrank below meanwhile, REQUEST_TIMED_OUT after timeout_ms). Other values → INVALID_REQUIRED_ACKS.
// A partition this node does not lead → NOT_LEADER_OR_FOLLOWER.
// Idempotent producer: duplicates of one of the last five batches are acknowledged with their original offsets and
// not appended again; sequence gaps → OUT_OF_ORDER_SEQUENCE_NUMBER; stale epochs → INVALID_PRODUCER_EPOCH.
// Compacted topics: every record needs a key (INVALID_RECORD otherwise); only their batches are decompressed.
// Quotas: producer_byte_rate counts the request's record bytes; over quota the response carries throttle_time_ms
// and the connection is muted for that time (KIP-219; also for v3-5, where Kafka delays the response instead).
// Transactional produce (transactional_id set): WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
// and KIP-890 part 1: the partition must be in the producer's open transaction at its coordinator (INVALID_TXN_STATE
// otherwise; a stale epoch INVALID_PRODUCER_EPOCH), checked when this node coordinates the transactional id. The log
// rejects non-transactional data from a producer with an open transaction (INVALID_TXN_STATE).
using System.Runtime.InteropServices;
using Samsa.Broker.Api;
using Samsa.Broker.Replication;
using Samsa.Broker.Security;
using Samsa.Broker.Topics;
using Samsa.Metadata;
using Samsa.Protocol;
using Samsa.Protocol.Messages;
using Samsa.Protocol.Records;
using Samsa.Storage;
using PartitionResponse = Samsa.Protocol.Messages.ProduceResponse.PartitionProduceResponse;

namespace Samsa.Broker.Handlers;

public sealed class ProduceHandler(
    ReplicaManager replicas, IMetadataLog metadata, TopicConfigs topicConfigs, BrokerMetrics metrics, Quotas.ClientQuotas? quotas = null,
    Transactions.TransactionCoordinator? transactions = null)
    : ApiHandler<ProduceRequest, ProduceResponse>
{
    public override ApiKey ApiKey => ApiKey.Produce;
    public override VersionRange Versions => new(3, 11);

    protected override async ValueTask<ProduceResponse?> HandleAsync(RequestContext context, ProduceRequest request, CancellationToken cancellationToken)
    {
        var response = new ProduceResponse();
        if (quotas is not null) response.ThrottleTimeMs = quotas.ThrottleProduce(context, request);
        var pending = new List<(PartitionResponse Response, Task<(AppendResult Result, ErrorCode Error)> Append, Partition Partition, long Bytes)>();
        var ackTimeout = TimeSpan.FromMilliseconds(Math.Max(0, request.TimeoutMs));
        bool validAcks = request.Acks is 0 or 1 or -1;

        foreach (var topicData in request.TopicData)
        {
            var topicResponse = new ProduceResponse.TopicProduceResponse { Name = topicData.Name };
            response.Responses.Add(topicResponse);
            bool authorized = context.Authorize(AclOperation.Write, ResourceType.Topic, topicData.Name);
            var topic = metadata.Image.Topic(topicData.Name);
            LogConfig? config = null;
            foreach (var partitionData in topicData.PartitionData)
            {
                var result = new PartitionResponse { Index = partitionData.Index, BaseOffset = -1 };
                topicResponse.PartitionResponses.Add(result);
                ErrorCode error = ErrorCode.None;
                string? message = null;
                Partition? partition = null;
                if (!validAcks) error = ErrorCode.InvalidRequiredAcks;
                else if (!authorized) error = ErrorCode.TopicAuthorizationFailed;
                else if (TopicCreator.IsInternal(topicData.Name) && context.Header.ClientId != "__admin_client")
                    (error, message) = (ErrorCode.InvalidTopicException, $"Cannot append to internal topic {topicData.Name}");
                else if (request.TransactionalId is { } txnId && !context.Authorize(AclOperation.Write, ResourceType.TransactionalId, txnId))
                    error = ErrorCode.TransactionalIdAuthorizationFailed;
                else if (topic is null || partitionData.Index < 0 || partitionData.Index >= topic.Partitions.Length
                         || (partition = replicas.Get(topicData.Name, partitionData.Index)) is null)
                    error = ErrorCode.UnknownTopicOrPartition;
                else if (partitionData.Records is not { } records || records.IsEmpty)
                    (error, message) = (ErrorCode.InvalidRecord, "No records.");
                else
                {
                    config ??= topicConfigs.Effective(topicData.Name);
                    var validation = RecordBatchReader.ValidateProducePayload(records,
                        new RecordValidationOptions { MaxBatchSize = config.MaxMessageBytes });
                    if (validation != RecordBatchError.None)
                    {
                        error = (ErrorCode)validation.ToKafkaErrorCode();
                        message = validation switch
                        {
                            RecordBatchError.UnsupportedMagic => "Message format v0/v1 is not supported; use a client that writes record batches v2.",
                            RecordBatchError.BatchTooLarge => $"The record batch exceeds max.message.bytes ({config.MaxMessageBytes}).",
                            _ => $"Invalid record batch: {validation}.",
                        };
                    }
                    else if (config.CleanupCompact && HasRecordWithoutKey(records))
                        (error, message) = (ErrorCode.InvalidRecord,
                            $"Compacted topic cannot accept message without key in topic partition {topicData.Name}-{partitionData.Index}.");
                    else if (request.TransactionalId is { } transactionalId && transactions is not null)
                        (error, message) = await VerifyTransactionalAsync(transactionalId, records, partition, cancellationToken).ConfigureAwait(false);
                }

                if (error != ErrorCode.None || partition is null)
                {
                    result.ErrorCode = (short)error;
                    result.ErrorMessage = message;
                    continue;
                }
                // The request frame is owned by this request until the response is written, so the batch can be
                // patched in place (base offset, leader epoch, LogAppendTime).
                var writable = MemoryMarshal.AsMemory(partitionData.Records!.Value);
                pending.Add((result, partition.AppendRecordsAsync(writable, request.Acks, ackTimeout, cancellationToken).AsTask(), partition, writable.Length));
            }
        }

        foreach (var (result, append, partition, bytes) in pending)
        {
            AppendResult appended;
            ErrorCode replicationError;
            try
            {
                (appended, replicationError) = await append.ConfigureAwait(false);
            }
            catch (IOException)
            {
                result.ErrorCode = (short)ErrorCode.KafkaStorageError;
                continue;
            }
            catch (ObjectDisposedException)
            {
                // The topic was deleted while the batch was appended or waiting for its fsync.
                result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                continue;
            }
            result.ErrorCode = (short)(replicationError != ErrorCode.None ? replicationError : MapError(appended.Error));
            result.LogStartOffset = appended.LogStartOffset;
            if (replicationError != ErrorCode.None) continue;
            if (appended.IsSuccess)
            {
                result.BaseOffset = appended.BaseOffset;
                result.LogAppendTimeMs = appended.LogAppendTime;
                if (!appended.Duplicate) metrics.TopicBytesIn(partition.Topic, bytes, appended.RecordCount);
            }
        }
        if (request.Acks != 0) return response;
        // acks=0 has no response to carry an error: like Kafka, close the connection so the client refreshes metadata.
        var failed = response.Responses.SelectMany(t => t.PartitionResponses.Where(r => r.ErrorCode != 0).Select(r => (t.Name, r.Index, r.ErrorCode))).FirstOrDefault();
        if (failed.Name is not null)
            throw new CloseConnectionException($"acks=0 produce to {failed.Name}-{failed.Index} failed with {(ErrorCode)failed.ErrorCode}");
        return null;
    }

    /// <summary>Compacted topics need a key on every record (Kafka: INVALID_RECORD); only these batches are decompressed.</summary>
    private static bool HasRecordWithoutKey(ReadOnlyMemory<byte> batches)
    {
        var reader = new RecordBatchReader(batches, verifyCrc: false);
        var records = new List<Record>();
        while (reader.TryReadNext(out var batch))
        {
            if (batch.IsControl) continue;
            records.Clear();
            if (batch.TryReadRecords(records) != RecordBatchError.None) return true;
            foreach (var r in records)
                if (r.Key is null) return true;
        }
        return false;
    }

    /// <summary>
    /// KIP-890 part 1: a transactional batch may only go to a partition of the producer's open transaction. Checked with
    /// the coordinator for the first batch of a transaction in the partition; later ones find the transaction open here.
    /// </summary>
    private async ValueTask<(ErrorCode, string?)> VerifyTransactionalAsync(string transactionalId, ReadOnlyMemory<byte> records,
        Partition partition, CancellationToken ct)
    {
        var (isTransactional, producerId, epoch) = BatchProducer(records);
        if (!isTransactional || partition.Log.HasOpenTransaction(producerId, epoch)) return (ErrorCode.None, null);
        string topic = partition.Topic;
        int index = partition.Index;
        return await transactions!.VerifyTransactionalProduceAsync(transactionalId, producerId, epoch, topic, index, ct).ConfigureAwait(false) switch
        {
            ErrorCode.None => (ErrorCode.None, null),
            ErrorCode.ProducerFenced => (ErrorCode.InvalidProducerEpoch, "The producer has been fenced by a newer epoch."),
            ErrorCode.InvalidTxnState or ErrorCode.InvalidProducerIdMapping =>
                (ErrorCode.InvalidTxnState, $"Partition {topic}-{index} is not part of an ongoing transaction of {transactionalId}."),
            // The coordinator is loading or moving: retriable for the producer.
            _ => (ErrorCode.NotEnoughReplicas, "The transaction coordinator is not available to verify the transaction."),
        };
    }

    private static (bool IsTransactional, long ProducerId, short Epoch) BatchProducer(ReadOnlyMemory<byte> records)
    {
        var h = new RecordBatchHeader(records.Span);
        return (h.IsTransactional, h.ProducerId, h.ProducerEpoch);
    }

    private static ErrorCode MapError(AppendError error) => error switch
    {
        AppendError.InvalidTxnState => ErrorCode.InvalidTxnState,
        AppendError.None => ErrorCode.None,
        AppendError.OutOfOrderSequence => ErrorCode.OutOfOrderSequenceNumber,
        AppendError.InvalidProducerEpoch => ErrorCode.InvalidProducerEpoch,
        AppendError.CorruptMessage => ErrorCode.CorruptMessage,
        AppendError.MessageTooLarge => ErrorCode.MessageTooLarge,
        AppendError.OffsetOutOfRange => ErrorCode.OffsetOutOfRange,
        _ => ErrorCode.KafkaStorageError,
    };
}

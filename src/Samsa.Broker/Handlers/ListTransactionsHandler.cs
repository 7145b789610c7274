// ListTransactions (key 66), versions 0-1.
// The transactional ids of every __transaction_state partition this node coordinates, filtered by state names
// (unknown names are echoed in unknown_state_filters and match nothing), producer ids and (v1) the minimum duration
// of the open transaction. A partition still loading answers COORDINATOR_LOAD_IN_PROGRESS for the whole request.
// Authorization: ids the caller may not DESCRIBE are left out.
using Samsa.Broker.Api;
using Samsa.Broker.Security;
using Samsa.Broker.Transactions;
using Samsa.Protocol;
using Samsa.Protocol.Messages;

namespace Samsa.Broker.Handlers;

public sealed class ListTransactionsHandler(TransactionCoordinator transactions)
    : ApiHandler<ListTransactionsRequest, ListTransactionsResponse>
{
    public override ApiKey ApiKey => ApiKey.ListTransactions;
    public override VersionRange Versions => new(0, 1);

    protected override ValueTask<ListTransactionsResponse?> HandleAsync(RequestContext context, ListTransactionsRequest request, CancellationToken cancellationToken)
    {
        var response = new ListTransactionsResponse();
        var states = new List<TransactionState>();
        foreach (string name in request.StateFilters)
        {
            if (Enum.TryParse<TransactionState>(name, ignoreCase: false, out var s) && Enum.IsDefined(s)) states.Add(s);
            else response.UnknownStateFilters.Add(name);
        }
        // Only unknown filters: nothing can match.
        if (request.StateFilters.Count > 0 && states.Count == 0) return ValueTask.FromResult<ListTransactionsResponse?>(response);
        long duration = context.ApiVersion >= 1 ? request.DurationFilter : -1;
        foreach (var shard in transactions.Shards)
        {
            var (error, list) = shard.List(states, request.ProducerIdFilters, duration);
            if (error != ErrorCode.None)
            {
                response.ErrorCode = (short)error;
                continue;
            }
            foreach (var (id, snapshot) in list)
            {
                if (!context.Authorize(AclOperation.Describe, ResourceType.TransactionalId, id)) continue;
                response.TransactionStates.Add(new() { TransactionalId = id, ProducerId = snapshot.ProducerId, State = TxnSnapshot.StateName(snapshot.State) });
            }
        }
        return ValueTask.FromResult<ListTransactionsResponse?>(response);
    }
}

using Samsa.Metadata;

namespace Samsa.Broker.Producers;

/// <summary>
/// Hands out producer ids from blocks reserved through the controller (ProducerIdsRecord in the metadata log), so
/// ids never repeat across restarts or, later, across nodes. Thread-safe.
/// </summary>
public sealed class ProducerIdManager(Controller controller, int nodeId)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private long _next;
    private long _end;

    public async ValueTask<long> NextAsync(CancellationToken ct)
    {
        await _lock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_next >= _end)
            {
                var (first, size) = await controller.AllocateProducerIdsAsync(nodeId, ct).ConfigureAwait(false);
                _next = first;
                _end = first + size;
            }
            return _next++;
        }
        finally
        {
            _lock.Release();
        }
    }
}

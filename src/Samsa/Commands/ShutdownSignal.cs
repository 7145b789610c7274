using System.Runtime.InteropServices;

namespace Samsa.Commands;

/// <summary>
/// Turns SIGINT, SIGTERM and SIGQUIT (Ctrl+C, `docker stop`, systemd) into a cancellation token, so a verb can shut
/// down gracefully. The default termination is suppressed for the first signal only; a second Ctrl+C while shutting
/// down kills the process, which is what an operator pressing it twice wants.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signalled;

    public ShutdownSignal()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
        }
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>The signal that requested shutdown, once one did.</summary>
    public PosixSignal? Received { get; private set; }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 1)
        {
            return;
        }

        context.Cancel = true;
        Received = context.Signal;
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _cts.Dispose();
    }
}

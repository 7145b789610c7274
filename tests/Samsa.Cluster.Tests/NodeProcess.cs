using System.Diagnostics;

namespace Samsa.Cluster.Tests;

/// <summary>
/// One Samsa node as a child process of the real `samsa server` (samsa.dll next to the tests), with its own data
/// directory and loopback ports that stay the same across restarts. Output goes to <see cref="LogPath"/>.
/// Kill (SIGKILL, like kill -9), Pause/Resume (SIGSTOP/SIGCONT), StopAsync (SIGTERM: graceful, controlled shutdown)
/// and Start again (same id, ports and data) are what chaos tests need.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly IReadOnlyDictionary<string, string> _config;
    private Process? _process;

    public NodeProcess(int nodeId, int kafkaPort, int controllerPort, string dataDir, IReadOnlyDictionary<string, string> config)
    {
        NodeId = nodeId;
        KafkaPort = kafkaPort;
        ControllerPort = controllerPort;
        DataDir = dataDir;
        _config = config;
        Directory.CreateDirectory(dataDir);
    }

    public int NodeId { get; }
    public int KafkaPort { get; }
    public int ControllerPort { get; }
    public string DataDir { get; }
    public string LogPath => Path.Combine(DataDir, "node.log");
    public string Bootstrap => $"127.0.0.1:{KafkaPort}";
    public bool IsRunning => _process is { HasExited: false };
    public int? Pid => IsRunning ? _process!.Id : null;

    public void Start()
    {
        if (IsRunning) throw new InvalidOperationException($"node {NodeId} is already running");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "samsa.dll"));
        info.ArgumentList.Add("server");
        foreach (var (key, value) in _config)
        {
            info.ArgumentList.Add("-o");
            info.ArgumentList.Add($"{key}={value}");
        }
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("SAMSA_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(name);
        var log = new StreamWriter(LogPath, append: true) { AutoFlush = true };
        log.WriteLine($"==== start {DateTime.UtcNow:O} ====");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.Exited += (_, _) => { lock (log) log.Dispose(); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>SIGKILL: no shutdown path runs, as with kill -9 or a power cut.</summary>
    public void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Pause() => Signal("STOP");

    public void Resume() => Signal("CONT");

    /// <summary>SIGTERM and wait: the graceful shutdown (controlled shutdown, clean log close).</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (!IsRunning) return;
        Signal("TERM");
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process!.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public string ReadLog()
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    private void Signal(string signal)
    {
        if (!IsRunning) return;
        using var kill = Process.Start("kill", $"-{signal} {_process!.Id}");
        kill.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        if (IsRunning) Resume();
        Kill();
        _process?.Dispose();
        return ValueTask.CompletedTask;
    }
}

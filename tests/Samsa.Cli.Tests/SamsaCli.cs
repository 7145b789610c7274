using System.Diagnostics;

namespace Samsa.Cli.Tests;

/// <summary>Runs the real `samsa` executable (samsa.dll, copied next to the tests by the project reference) as a child process.</summary>
public static class SamsaCli
{
    private static readonly Lazy<string> Dll = new(Locate);

    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
    {
        public string[] StdoutLines => Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1}s\n--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
    }

    /// <summary>Runs `samsa args...`, feeding <paramref name="stdin"/> (then closing it); kills the process after <paramref name="timeout"/>.</summary>
    public static async Task<Result> RunAsync(IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null,
        IDictionary<string, string?>? environment = null, Action<Process>? started = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll.Value);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment.Remove("SAMSA_BOOTSTRAP_SERVER");
        info.Environment.Remove("SAMSA_METRICS_URL");
        // No profile from the developer's machine: SAMSA_PROFILE unset, default profile looked up in an empty directory.
        info.Environment.Remove("SAMSA_PROFILE");
        info.Environment["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "samsa-cli-test-no-config");
        if (environment is not null)
            foreach (var (k, v) in environment) info.Environment[k] = v;

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        started?.Invoke(process);
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"samsa {string.Join(' ', args)} did not exit within {timeout ?? TimeSpan.FromSeconds(60)}; stderr: {await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr, watch.Elapsed);
    }

    public static Task<Result> RunAsync(params string[] args) => RunAsync(args, null);

    private static string Locate()
    {
        var next = Path.Combine(AppContext.BaseDirectory, "samsa.dll");
        if (File.Exists(next)) return next;
        throw new FileNotFoundException($"samsa.dll not found in {AppContext.BaseDirectory}");
    }
}

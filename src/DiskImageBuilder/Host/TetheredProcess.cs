using System.Diagnostics;

namespace DiskImageBuilder.Host;

/// <summary>A process started by <see cref="ProcessRunner.StartTethered"/>: ends when disposed or when we end.</summary>
public sealed class TetheredProcess : IDisposable
{
    private readonly Process _process;

    internal TetheredProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            ProcessRunner.Kill(_process);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}

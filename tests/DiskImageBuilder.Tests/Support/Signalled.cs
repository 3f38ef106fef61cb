using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

internal static class Signalled
{
    public static SignalledRun Build(ImageProject p, string whileRunning, string signal, bool toGroup) =>
        Run(Dotnet.StartInfo(p.ProjectFile, p.Environment, ["-nr:false", "-tl:off", "-v:m"], ownSession: true), whileRunning, signal, toGroup);

    /// <summary>
    /// Starts <paramref name="psi"/>, waits until a process whose command line holds
    /// <paramref name="whileRunning"/> runs, notes every descendant, sends SIG<paramref name="signal"/>
    /// to the process (or its process group), and waits for it to end.
    /// </summary>
    public static SignalledRun Run(ProcessStartInfo psi, string whileRunning, string signal, bool toGroup)
    {
        var output = new StringBuilder();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        IReadOnlyList<ProcessId> descendants = [];
        try
        {
            SpinWait.SpinUntil(() => process.HasExited || Tree.Descendants(process.Id).Any(d => d.Command.Contains(whileRunning, StringComparison.Ordinal)), TimeSpan.FromMinutes(3))
                .ShouldBeTrue("the hook should have started");
            process.HasExited.ShouldBeFalse(output.ToString());
            descendants = Tree.Descendants(process.Id);
            ImageProject.Sh($"kill -{signal} {(toGroup ? "-" : string.Empty)}{process.Id}");
            process.WaitForExit(TimeSpan.FromMinutes(2)).ShouldBeTrue("the build should end within 2 minutes of the signal");
            process.WaitForExit();
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        lock (output)
        {
            return new SignalledRun(process.ExitCode, output.ToString(), descendants);
        }
    }
}

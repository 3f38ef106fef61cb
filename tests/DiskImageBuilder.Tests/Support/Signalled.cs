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

    /// <summary>A build sent the signal as soon as <paramref name="ready"/> holds (a stage of the build has begun: a file appeared, a hook ended).</summary>
    public static SignalledRun Build(ImageProject p, Func<bool> ready, string signal, bool toGroup) =>
        Run(Dotnet.StartInfo(p.ProjectFile, p.Environment, ["-nr:false", "-tl:off", "-v:m"], ownSession: true), _ => ready(), signal, toGroup);

    /// <summary>
    /// Starts <paramref name="psi"/>, waits until a process whose command line holds
    /// <paramref name="whileRunning"/> runs, notes every descendant, sends SIG<paramref name="signal"/>
    /// to the process (or its process group), and waits for it to end.
    /// </summary>
    public static SignalledRun Run(ProcessStartInfo psi, string whileRunning, string signal, bool toGroup) =>
        Run(psi, descendants => descendants.Any(d => d.Command.Contains(whileRunning, StringComparison.Ordinal)), signal, toGroup);

    /// <summary>Starts <paramref name="psi"/> and sends the signal once <paramref name="ready"/> holds for the build's descendants.</summary>
    public static SignalledRun Run(ProcessStartInfo psi, Func<IReadOnlyList<ProcessId>, bool> ready, string signal, bool toGroup)
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
            SpinWait.SpinUntil(() => process.HasExited || ready(Tree.Descendants(process.Id)), TimeSpan.FromMinutes(3))
                .ShouldBeTrue("the stage to signal in should have begun");
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

using System.Diagnostics;
using System.Text;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Microsoft.Build.Logging.StructuredLogger;

namespace DiskImageBuilder.Tests;

/// <summary>Runs `dotnet build` out of process, as a user would, and reads its binlog.</summary>
public static class Dotnet
{
    public static BuildRun Build(string project, string binlog, IReadOnlyDictionary<string, string>? environment, Action<Process>? whileRunning, params string[] args) =>
        Verb("build", project, binlog, environment, whileRunning, args);

    /// <summary>How long a build may take before the test stops it; an emulated (arm64) build needs longer.</summary>
    public static TimeSpan BuildLimit(IReadOnlyDictionary<string, string>? environment) =>
        environment is not null && environment.TryGetValue(LimitVariable, out var minutes) ? TimeSpan.FromMinutes(int.Parse(minutes, System.Globalization.CultureInfo.InvariantCulture)) : TimeSpan.FromMinutes(20);

    /// <summary>Read by the tests only (the build ignores it): minutes the build may take.</summary>
    public const string LimitVariable = "TEST_BUILD_MINUTES";

    /// <summary>
    /// Read by the tests only: the niceness to build at. The arm64 build, one emulated process for a
    /// quarter of an hour, runs beside the Heavy tier: niced, those tests come first.
    /// </summary>
    public const string NiceVariable = "TEST_BUILD_NICE";

    /// <summary>`dotnet VERB project` (build, publish, pack: the verbs that take MSBuild's switches).</summary>
    public static BuildRun Verb(string verb, string project, string binlog, IReadOnlyDictionary<string, string>? environment, Action<Process>? whileRunning, params string[] args) =>
        Verb(verb, project, binlog, environment, whileRunning, asUser: null, args);

    /// <param name="asUser">An ordinary user to run dotnet as (runuser), with that user's home as HOME and DOTNET_CLI_HOME; null: as we run.</param>
    public static BuildRun Verb(string verb, string project, string binlog, IReadOnlyDictionary<string, string>? environment, Action<Process>? whileRunning, TestUser? asUser, params string[] args)
    {
        var psi = StartInfo(project, environment, ["-nr:false", "-tl:off", $"-bl:{binlog}", .. args], verb: verb);
        if (asUser is not null)
        {
            Prefix(psi, "runuser", "-u", asUser.Name, "--");
            psi.Environment["HOME"] = asUser.Home;
            psi.Environment["DOTNET_CLI_HOME"] = asUser.Home;
            psi.Environment["USER"] = psi.Environment["LOGNAME"] = asUser.Name;
        }

        if (environment is not null && environment.TryGetValue(NiceVariable, out var nice))
        {
            Prefix(psi, "nice", "-n", nice);
        }

        var output = new StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        p.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            whileRunning?.Invoke(p);
        }
        catch
        {
            // A failed check must not leave the build running behind the test.
            p.Kill(entireProcessTree: true);
            throw;
        }

        var limit = BuildLimit(environment);
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet build did not finish in {limit.TotalMinutes} minutes:\n" + output);
        }

        p.WaitForExit();
        return new BuildRun(p.ExitCode, output.ToString(), BinaryLog.ReadBuild(binlog));
    }

    /// <summary>Runs <paramref name="psi"/>'s command through <paramref name="command"/> (setsid, runuser, nice).</summary>
    private static void Prefix(ProcessStartInfo psi, params string[] command)
    {
        string[] all = [.. command, psi.FileName, .. psi.ArgumentList];
        psi.FileName = all[0];
        psi.ArgumentList.Clear();
        foreach (var a in all[1..])
        {
            psi.ArgumentList.Add(a);
        }
    }

    /// <summary>`dotnet VERB PROJECT ARGS` (build by default) with <paramref name="environment"/> added, output redirected; <paramref name="ownSession"/>: in a session (and process group) of its own, as a terminal or CI runner starts it.</summary>
    public static ProcessStartInfo StartInfo(string project, IReadOnlyDictionary<string, string>? environment, string[] args, bool ownSession = false, string verb = "build")
    {
        var psi = new ProcessStartInfo("dotnet", [verb, project, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(project)!,
        };
        if (ownSession)
        {
            Prefix(psi, "setsid");
        }

        // The Locator points these at the SDK for our process; a child `dotnet build` must pick its own.
        foreach (var v in (string[])["MSBUILD_EXE_PATH", "MSBuildExtensionsPath", "MSBuildSDKsPath"])
        {
            psi.Environment.Remove(v);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        return psi;
    }
}

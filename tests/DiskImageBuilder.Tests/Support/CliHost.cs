using DiskImageBuilder.Cli;

namespace DiskImageBuilder.Tests;

/// <summary>Runs the CLI commands in-process through their entry method, with their own environment and captured output.</summary>
internal static class CliHost
{
    public static CliRun Create(IReadOnlyDictionary<string, string> env, string cwd, params string[] args) =>
        Invoke(DiskImageCreate.Name, DiskImageCreate.Run, env, cwd, args);

    public static CliRun ElementInfo(IReadOnlyDictionary<string, string> env, params string[] args) =>
        Invoke(Cli.ElementInfo.Name, Cli.ElementInfo.Run, env, Path.GetTempPath(), args);

    public static CliRun GetKernel(string cwd, params string[] args) =>
        Invoke(DiskImageGetKernel.Name, DiskImageGetKernel.Run, new Dictionary<string, string>(), cwd, args);

    public static CliRun Ramdisk(IReadOnlyDictionary<string, string> env, string cwd, params string[] args) =>
        Invoke(DiskImageCreate.RamdiskName, DiskImageCreate.RunRamdisk, env, cwd, args);

    /// <summary>Parses a disk-image-create command line the way Run does, without building.</summary>
    public static CreateCommand Parse(IReadOnlyDictionary<string, string> env, string cwd, params string[] args) =>
        DiskImageCreate.Parse(args, Context(env, cwd, TextWriter.Null, TextWriter.Null));

    /// <summary>Parses a ramdisk-image-create command line.</summary>
    public static CreateCommand ParseRamdisk(IReadOnlyDictionary<string, string> env, string cwd, params string[] args) =>
        DiskImageCreate.Parse(args, Context(env, cwd, TextWriter.Null, TextWriter.Null), ramdisk: true);

    private static CliRun Invoke(string program, Func<IReadOnlyList<string>, CliContext, int> command, IReadOnlyDictionary<string, string> env, string cwd, string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = ConsoleHost.Invoke(program, command, args, Context(env, cwd, stdout, stderr));
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    // No terminal: break points stop the build instead of opening a shell.
    private static CliContext Context(IReadOnlyDictionary<string, string> env, string cwd, TextWriter stdout, TextWriter stderr) =>
        new(env, stdout, stderr, cwd) { Interactive = false, ElementsLibrary = Repo.Elements };
}

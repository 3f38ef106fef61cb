using DiskImageBuilder.BlockDevice;

namespace DiskImageBuilder.Cli;

/// <summary>
/// disk-image-get-kernel -i IMAGE [-d DIR] [-o PREFIX] [-x]: DIB's old command (removed there in
/// favour of the baremetal element, deprecated here too), reading the image without mounting it.
/// </summary>
public static class DiskImageGetKernel
{
    public const string Name = "disk-image-get-kernel";

    private static readonly OptionSpec Image = new('i', null, ArgumentKind.Required);
    private static readonly OptionSpec OutDir = new('d', null, ArgumentKind.Required);
    private static readonly OptionSpec Prefix = new('o', null, ArgumentKind.Required);
    private static readonly OptionSpec Trace = new('x', null);
    private static readonly OptionSpec Help = new('h', "help");
    private static readonly OptionSpec Version = new(null, "version");

    public static readonly IReadOnlyList<OptionSpec> Options = [Image, OutDir, Prefix, Trace, Help, Version];

    public const string Usage = """
        Usage: disk-image-get-kernel -i IMAGE [-d DIR] [-o PREFIX]
        Copies the kernel and initial ramdisk out of a disk image (qcow2, raw, vhd, …) as
        DIR/PREFIX-vmlinuz and DIR/PREFIX-initrd, without mounting it (ext2/3/4 filesystems).

          -i IMAGE    the disk image to read
          -d DIR      where to write them (default /tmp)
          -o PREFIX   the files' prefix (default baremetal: baremetal-vmlinuz, baremetal-initrd)
          -x          show each step
          -h, --help  show this help
          --version   show the version

        Deprecated, as in diskimage-builder: the baremetal element writes IMAGE.vmlinuz and
        IMAGE.initrd beside the image as part of the build.
        """;

    public static int Run(IReadOnlyList<string> args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (options, operands) = GetOpt.Parse(Options, args);
        bool Has(OptionSpec o) => options.Any(x => x.Option == o);
        string? Last(OptionSpec o) => options.LastOrDefault(x => x.Option == o).Value;
        if (Has(Help))
        {
            context.Out.WriteLine(Usage);
            return 0;
        }

        if (Has(Version))
        {
            context.Out.WriteLine($"{Name} {DiskImageCreate.VersionText()}");
            return 0;
        }

        if (operands.Count > 0)
        {
            throw new UsageException($"unexpected argument '{operands[0]}'");
        }

        var image = Last(Image) ?? throw new UsageException("give the image to read with -i IMAGE");
        context.Out.WriteLine("DEPRECATED: Please consider using the `baremetal` element.");
        using var log = new ConsoleLog(Name, context, null) { ShowDetail = Has(Trace) };
        var scratch = Path.Combine(Path.GetTempPath(), $"dib_get_kernel.{Guid.NewGuid():N}"[..24]);
        try
        {
            DiskKernel.Extract(
                Path.GetFullPath(image, context.CurrentDirectory),
                Path.GetFullPath(Last(OutDir) ?? "/tmp", context.CurrentDirectory),
                Last(Prefix) ?? "baremetal",
                scratch,
                log,
                context.CancellationToken);
            return 0;
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }
}

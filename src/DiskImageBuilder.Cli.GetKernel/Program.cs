namespace DiskImageBuilder.Cli;

internal static class Program
{
    public static int Main(string[] args) => ConsoleHost.Run(DiskImageGetKernel.Name, DiskImageGetKernel.Run, args);
}

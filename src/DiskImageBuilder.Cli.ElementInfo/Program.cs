namespace DiskImageBuilder.Cli;

internal static class Program
{
    public static int Main(string[] args) => ConsoleHost.Run(ElementInfo.Name, ElementInfo.Run, args);
}

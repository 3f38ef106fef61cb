using System.Runtime.CompilerServices;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using Microsoft.Build.Locator;

namespace DiskImageBuilder.Tests;

internal static class Repo
{
    public static readonly string Root = Find();

    public static string TestElements => Path.Combine(Root, "tests", "elements");

    public static string Elements => Path.Combine(Root, "elements");

    public static string Sdk => Path.Combine(Root, "sdk", "Sdk");

    public static string TasksAssembly => typeof(Tasks.PrepareImage).Assembly.Location;

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "sdk", "Sdk", "Sdk.props")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Repository root not found above " + AppContext.BaseDirectory);
    }
}

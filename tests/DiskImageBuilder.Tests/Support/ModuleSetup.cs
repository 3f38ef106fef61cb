using System.Runtime.CompilerServices;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using Microsoft.Build.Locator;

namespace DiskImageBuilder.Tests;

internal static class ModuleSetup
{
    [ModuleInitializer]
    internal static void Init()
    {
        if (!MSBuildLocator.IsRegistered)
        {
            MSBuildLocator.RegisterDefaults();
        }

        TempDir.RemoveLeftovers();
        TestUser.RemoveLeftovers();
    }
}

using System.Runtime.CompilerServices;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using Microsoft.Build.Locator;

namespace DiskImageBuilder.Tests;

internal static class Resolve
{
    public static ResolvedElements Elements(string elementsDir, params string[] names) =>
        ElementResolver.Resolve(new ElementRepository([elementsDir]), [.. names.Select(n => new ElementRequest(n))], skipBase: true);
}

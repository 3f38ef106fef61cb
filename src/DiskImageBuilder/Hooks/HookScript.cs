using System.Globalization;
using System.Text.RegularExpressions;
using DiskImageBuilder.Elements;

namespace DiskImageBuilder.Hooks;

/// <summary>A script of the merged hooks tree and the element file it came from.</summary>
public sealed record HookScript(Phase Phase, string Name, string Path, string SourcePath, string ElementName)
{
    public string DisplayName => $"{Phase.Name}/{Name}";
}

using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace DiskImageBuilder.Hooks;

/// <summary>One package action for one phase: install, or (uninstall: true) remove.</summary>
internal sealed record PackageAction(string Package, bool Uninstall, string Element);

using DiskImageBuilder.Elements;

namespace DiskImageBuilder.Hooks;

/// <summary>
/// One package action for one phase: install, or (uninstall: true) remove. <see cref="Element"/>
/// names the element whose pkg-map translates the name; null for the image's own packages, which
/// are used as given (as DIB's -p packages are).
/// </summary>
/// <see cref="BuildOnly"/> marks a build-only package's install and its removal after post-install.d.
internal sealed record PackageAction(string Package, bool Uninstall, string? Element, bool BuildOnly = false);

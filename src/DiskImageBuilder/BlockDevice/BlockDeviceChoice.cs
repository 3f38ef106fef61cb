using System.Text.RegularExpressions;
using DiskImageBuilder.Elements;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// The one place the disk layout is chosen, as diskimage-builder chooses it: the element that
/// provides `block-device` (block-device-mbr, -gpt, -efi) says which in its environment.d
/// (DIB_BLOCK_DEVICE=mbr|gpt|efi) and ships DIB's layout as block-device-default.yaml, and `vm`
/// without one gets DIB's default. A BootMode the user set picks the engine's layout of that name
/// instead (<see cref="BootModes"/>), which the element must agree with.
/// </summary>
public static partial class BlockDeviceChoice
{
    /// <summary>What the block-device-* elements provide and `vm` depends on.</summary>
    public const string Provided = "block-device";

    /// <summary>
    /// The element that provides `block-device` when the image needs one and no element does: DIB
    /// adds block-device-mbr (block-device-efi on arm64) for `vm`; a BootMode that needs GPT gets
    /// block-device-efi, so BootMode=uefi with `vm` keeps working.
    /// </summary>
    public static string DefaultElement(string architecture, string? bootMode) =>
        architecture is "arm64" || bootMode is BootModes.Uefi or BootModes.Hybrid ? "block-device-efi" : "block-device-mbr";

    /// <summary>
    /// Reads and checks the image's layout before any work (also in the IDE): every DIB02xx rule of a
    /// configuration at its line, and a BootMode or architecture the block-device element cannot honour.
    /// Returns the file the configuration came from (an input of the build), null when there is none
    /// or it is inline YAML.
    /// </summary>
    public static string? Check(BuildRequest request, ResolvedElements elements, SourceLocation? where) =>
        Resolve(request, elements, where).LayoutFile;

    /// <summary>
    /// The image's layout and the request as the later stages read it. A block-device configuration
    /// (BlockDeviceConfig, DIB_BLOCK_DEVICE_CONFIG, or the YAML the block-device element ships, as
    /// block-device-mbr, -gpt and -efi ship DIB's) is the layout, and says the boot mode; without one,
    /// a BootMode the user set picks the engine's layout, which the block-device element must agree
    /// with (<see cref="Choose"/>). The element's YAML is pinned in the request (BlockDeviceConfig), so
    /// every later reader finds the same layout once BootMode is filled in.
    /// </summary>
    internal static (BuildRequest Request, BlockDeviceConfig? Layout, string? LayoutFile) Resolve(BuildRequest request, ResolvedElements elements, SourceLocation? where)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(elements);
        if (BlockDeviceConfigSource.Find(request, elements.Elements) is not { } found)
        {
            return (request with { BootMode = Choose(request.BootMode, request.Architecture, elements, where) }, null, null);
        }

        var fromElement = string.IsNullOrWhiteSpace(request.BlockDeviceConfig)
            && string.IsNullOrEmpty(request.Environment.GetValueOrDefault(BlockDeviceConfigSource.Variable));
        if (fromElement)
        {
            // The element's own layout still has to suit the architecture (no BIOS disk on arm64).
            if (elements.Providers.TryGetValue(Provided, out var provider) && DeclaredLayout(provider) is "mbr" or "gpt" && request.Architecture is "arm64")
            {
                throw ArchitectureConflict(provider, DeclaredLayout(provider)!, where);
            }

            request = request with { BlockDeviceConfig = found.Source };
        }

        var layout = LayoutDisk.Load(request, elements.Elements)!;
        var mode = LayoutDisk.BootMode(layout);

        // Firmware other than x86's has no BIOS: DIB's efi layout keeps its BIOS boot partition there, unused.
        if (mode == BootModes.Hybrid && request.Architecture is not ("amd64" or "x86_64" or "i386"))
        {
            mode = BootModes.Uefi;
        }

        // ... and a partitioned disk without an ESP cannot boot there at all.
        if (mode == BootModes.Bios && layout.Tables.Count > 0 && request.Architecture is "arm64")
        {
            throw new DibException(
                DibCodes.ArchitectureBootMode,
                "The block-device configuration has no EFI system partition (GPT type EF00, MBR type 0xEF), and arm64 machines boot by UEFI only, from one. Add an ESP mounted at /boot/efi.",
                where);
        }

        return (request with { BootMode = mode, RootLabel = layout.Root.Label, RootFileSystem = layout.Root.Type }, layout, File.Exists(found.Source) ? found.Source : null);
    }

    /// <summary>The boot mode (layout) of the image: the block-device element's, checked against a BootMode the user set.</summary>
    /// <param name="bootMode">The user's BootMode, or empty when not set.</param>
    public static string Choose(string? bootMode, string architecture, ResolvedElements elements, SourceLocation? where)
    {
        var chosen = string.IsNullOrWhiteSpace(bootMode) ? null : BootModes.Normalize(bootMode, where);
        if (chosen is not null)
        {
            BootModes.CheckArchitecture(chosen, architecture, where);
        }

        if (!elements.Providers.TryGetValue(Provided, out var provider))
        {
            return chosen ?? (architecture is "arm64" ? BootModes.Uefi : BootModes.Bios);
        }

        var value = DeclaredLayout(provider);

        // With a BootMode, the engine's layouts stand in for DIB's names: mbr is one MBR partition (bios);
        // gpt's BIOS boot partition is in hybrid; efi is hybrid on x86, ESP + root (uefi) on arm64.
        string[] allowed = value switch
        {
            "mbr" => [BootModes.Bios],
            "gpt" => [BootModes.Hybrid],
            "efi" => architecture is "arm64" ? [BootModes.Uefi] : [BootModes.Hybrid, BootModes.Uefi],
            _ => throw new DibException(
                DibCodes.UnsupportedBlockDevice,
                $"Element '{provider.Name}' provides '{Provided}' but {(value is null ? "sets no DIB_BLOCK_DEVICE in its environment.d" : $"sets DIB_BLOCK_DEVICE={value}")}; "
                + "the disk layouts here are mbr, gpt and efi (elements block-device-mbr, block-device-gpt, block-device-efi).",
                new SourceLocation(provider.Directory)),
        };
        if (value is "mbr" or "gpt" && architecture is "arm64")
        {
            throw ArchitectureConflict(provider, value, where);
        }

        if (chosen is null)
        {
            return allowed[0];
        }

        return allowed.Contains(chosen)
            ? chosen
            : throw new DibException(
                DibCodes.BlockDeviceConflict,
                $"BootMode '{chosen}' conflicts with element '{provider.Name}' (DIB_BLOCK_DEVICE={value}), which asks for {string.Join(" or ", allowed.Select(Describe))}. "
                + $"Remove BootMode or use {string.Join(" or ", allowed)}, or choose the block-device element that matches it (bios: block-device-mbr; uefi, hybrid: block-device-efi).",
                where ?? new SourceLocation(provider.Directory));
    }

    /// <summary>The DIB_BLOCK_DEVICE the element exports in its environment.d, or null.</summary>
    private static string? DeclaredLayout(Element provider)
    {
        var envDir = Path.Combine(provider.Directory, "environment.d");
        return !Directory.Exists(envDir) ? null : Directory.EnumerateFiles(envDir).Order(StringComparer.Ordinal)
            .Select(f => BlockDeviceLine().Match(File.ReadAllText(f)))
            .LastOrDefault(m => m.Success)?.Groups[1].Value;
    }

    private static DibException ArchitectureConflict(Element provider, string value, SourceLocation? where) => new(
        DibCodes.BlockDeviceConflict,
        $"Element '{provider.Name}' (DIB_BLOCK_DEVICE={value}) makes a BIOS-booting disk, which arm64 cannot boot: use block-device-efi.",
        where ?? new SourceLocation(provider.Directory));

    private static string Describe(string bootMode) => bootMode switch
    {
        BootModes.Bios => "an MBR disk (BootMode bios)",
        BootModes.Uefi => "a GPT disk with an EFI system partition (BootMode uefi)",
        _ => "a GPT disk with a BIOS boot partition and an EFI system partition (BootMode hybrid)",
    };

    [GeneratedRegex(@"^\s*(?:export\s+)?DIB_BLOCK_DEVICE=[""']?([A-Za-z0-9_-]*)", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex BlockDeviceLine();
}

using System.Text.RegularExpressions;
using DiskImageBuilder.Elements;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// The one place the disk layout is chosen, as diskimage-builder chooses it: the element that
/// provides `block-device` (block-device-mbr, -gpt, -efi) says which in its environment.d
/// (DIB_BLOCK_DEVICE=mbr|gpt|efi), and `vm` without one gets DIB's default. Each maps onto one of
/// the engine's layouts (<see cref="BootModes"/>); a BootMode the user set must agree with it.
/// DIB's YAML block-device configuration will replace this mapping.
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
    /// Reads and checks the image's block-device configuration, if it has one (every DIB02xx rule, at
    /// its line), so a bad layout shows before any work (also in the IDE). Returns the file it came from
    /// (an input of the build), null when there is none or it is inline YAML; <paramref name="configured"/>
    /// says whether there is one (then BootMode and the block-device element no longer choose the layout).
    /// </summary>
    public static string? CheckConfiguration(BuildRequest request, ResolvedElements elements, out bool configured)
    {
        ArgumentNullException.ThrowIfNull(elements);
        var found = BlockDeviceConfigSource.Find(request, elements.Elements);
        configured = found is not null;
        if (found is not { } config)
        {
            return null;
        }

        _ = LayoutDisk.Load(request, elements.Elements);
        return File.Exists(config.Source) ? config.Source : null;
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

        var envDir = Path.Combine(provider.Directory, "environment.d");
        var value = !Directory.Exists(envDir) ? null : Directory.EnumerateFiles(envDir).Order(StringComparer.Ordinal)
            .Select(f => BlockDeviceLine().Match(File.ReadAllText(f)))
            .LastOrDefault(m => m.Success)?.Groups[1].Value;

        // DIB's names: mbr is one MBR partition; gpt adds the BIOS boot partition (and, until the
        // YAML layouts, the ESP of hybrid); efi is ESP + BIOS boot partition + root on x86, ESP + root on arm64.
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
            throw new DibException(
                DibCodes.BlockDeviceConflict,
                $"Element '{provider.Name}' (DIB_BLOCK_DEVICE={value}) makes a BIOS-booting disk, which arm64 cannot boot: use block-device-efi.",
                where ?? new SourceLocation(provider.Directory));
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

    private static string Describe(string bootMode) => bootMode switch
    {
        BootModes.Bios => "an MBR disk (BootMode bios)",
        BootModes.Uefi => "a GPT disk with an EFI system partition (BootMode uefi)",
        _ => "a GPT disk with a BIOS boot partition and an EFI system partition (BootMode hybrid)",
    };

    [GeneratedRegex(@"^\s*(?:export\s+)?DIB_BLOCK_DEVICE=[""']?([A-Za-z0-9_-]*)", RegexOptions.Multiline | RegexOptions.CultureInvariant)]
    private static partial Regex BlockDeviceLine();
}

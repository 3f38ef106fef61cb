using System.Text.Json;

namespace DiskImageBuilder.Tests;

/// <summary>
/// The host's LVM tools pointed at given devices only (--devices), so the host's own LVM configuration and
/// disks are never looked at or changed; reports in bytes as JSON rows.
/// </summary>
internal static class LvmTools
{
    /// <summary>Runs an LVM command; its errors (and only its errors) are in the exception when it fails.</summary>
    public static string Run(string command, IEnumerable<LoopDevice> devices) =>
        ImageProject.Sh($"e=$(mktemp); LVM_SUPPRESS_FD_WARNINGS=1 {command} --devices {string.Join(',', devices.Select(d => d.Path))} 2>\"$e\"; r=$?; [ $r = 0 ] || cat \"$e\"; rm -f \"$e\"; exit $r");

    /// <summary>The rows of a report (pvs, vgs, lvs) with its fields in bytes without units.</summary>
    public static IReadOnlyList<Dictionary<string, string>> Report(string report, string fields, IEnumerable<LoopDevice> devices, string extra = "")
    {
        var json = Run($"{report} --reportformat json --units b --nosuffix -o {fields} {extra}", devices);
        using var doc = JsonDocument.Parse(json);
        // One table per report: "pv", "vg", "lv", or "seg" for lvs --segments.
        return [.. doc.RootElement.GetProperty("report")[0].EnumerateObject().Single().Value.EnumerateArray()
            .Select(row => row.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal))];
    }
}

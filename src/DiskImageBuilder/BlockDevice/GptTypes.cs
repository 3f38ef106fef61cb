using System.Globalization;

namespace DiskImageBuilder.BlockDevice;

/// <summary>
/// sgdisk's four-digit GPT type codes (DIB hands `type` to `sgdisk -t`), the ones Linux images use, with
/// their type GUIDs as sgdisk prints them; a full GUID is taken as it is.
/// </summary>
internal static class GptTypes
{
    private static readonly Dictionary<string, Guid> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["0700"] = new("EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"),
        ["4100"] = new("9E1A2D38-C612-4316-AA26-8B49521E5A8B"),
        ["8200"] = new("0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"),
        ["8300"] = new("0FC63DAF-8483-4772-8E79-3D69D8477DE4"),
        ["8301"] = new("8DA63339-0007-60C0-C436-083AC8230908"),
        ["8302"] = new("933AC7E1-2EB4-4F13-B844-0E14E2AEF915"),
        ["8303"] = new("44479540-F297-41B2-9AF7-D131D5F0458A"),
        ["8304"] = new("4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"),
        ["8305"] = new("B921B045-1DF0-41C3-AF44-4C6F280D3FAE"),
        ["8306"] = new("3B8F8425-20E0-4F3B-907F-1A25A76F98E8"),
        ["8309"] = new("CA7D7CCB-63ED-4C53-861C-1742536059CC"),
        ["8310"] = new("4D21B016-B534-45C2-A9FB-5C16E091FD2D"),
        ["8311"] = new("7EC6F557-3BC5-4ACA-B293-16EF5DF639D1"),
        ["8E00"] = new("E6D6D379-F507-44C2-A23C-238F2A3DF928"),
        ["EA00"] = new("BC13C2FF-59E6-4262-A352-B275FD6F7172"),
        ["EF00"] = new("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"),
        ["EF01"] = new("024DEE41-33E7-11D3-9D69-0008C781F39F"),
        ["EF02"] = new("21686148-6449-6E6F-744E-656564454649"),
        ["FD00"] = new("A19D880F-05FC-4D3B-A006-743F0F84911E"),
    };

    public const string Linux = "8300";

    public static IEnumerable<string> Codes => Known.Keys;

    public static bool TryGet(string code, out Guid type)
    {
        var text = code.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? code[2..] : code;
        return Known.TryGetValue(text, out type) || (text.Length == 36 && Guid.TryParse(text, CultureInfo.InvariantCulture, out type));
    }

    public static Guid Of(string? code) => TryGet(code ?? Linux, out var type) ? type : throw new ArgumentException($"Unknown GPT type code '{code}'.", nameof(code));
}

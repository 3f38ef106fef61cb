using System.Globalization;

namespace DiskImageBuilder.Output;

/// <summary>The time outputs record (container configs, SBOMs): SOURCE_DATE_EPOCH when set (reproducible builds' convention), else now.</summary>
internal static class BuildTime
{
    public static DateTimeOffset Of(BuildRequest request)
    {
        var epoch = request.Environment.GetValueOrDefault("SOURCE_DATE_EPOCH") ?? Environment.GetEnvironmentVariable("SOURCE_DATE_EPOCH");
        return long.TryParse(epoch, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : DateTimeOffset.UtcNow;
    }
}

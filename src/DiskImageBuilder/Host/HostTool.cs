namespace DiskImageBuilder.Host;

/// <summary>A program the build runs on the host and the Debian package that provides it.</summary>
public sealed record HostTool(string Command, string Package);

namespace DiskImageBuilder.Hooks;

/// <summary>A DIB phase folder and whether its scripts run inside the image (chroot) or on the host.</summary>
public sealed record Phase(string Name, bool InChroot)
{
    public static readonly Phase Root = new("root.d", false);
    public static readonly Phase ExtraData = new("extra-data.d", false);
    public static readonly Phase PreInstall = new("pre-install.d", true);
    public static readonly Phase Install = new("install.d", true);
    public static readonly Phase PostInstall = new("post-install.d", true);
    public static readonly Phase BlockDevice = new("block-device.d", false);
    public static readonly Phase Finalise = new("finalise.d", true);
    public static readonly Phase Cleanup = new("cleanup.d", false);

    /// <summary>Every phase, in the order the build runs them.</summary>
    public static readonly IReadOnlyList<Phase> All =
        [Root, ExtraData, PreInstall, Install, PostInstall, BlockDevice, Finalise, Cleanup];

    public static Phase? Find(string name) => All.FirstOrDefault(p => p.Name == name);

    public override string ToString() => Name;
}

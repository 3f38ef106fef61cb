namespace DiskImageBuilder;

/// <summary>
/// Every diagnostic code the product emits, in one place. Codes are never reused.
/// 00xx elements and hooks, 002x project input, 003x host, 004x phases, 005x outputs, 006x phase cache, 01xx tools,
/// 02xx disks and partition tables, 03xx files and apps composed into the image, 070x rootless builds, 09xx internal.
/// </summary>
public static class DibCodes
{
    public const string ElementNotFound = "DIB0001";
    public const string DuplicateProvider = "DIB0002";
    public const string NoOperatingSystem = "DIB0003";
    public const string RequestedElementIsProvided = "DIB0004";
    public const string InvalidElementName = "DIB0005";
    public const string BlockDeviceConflict = "DIB0006";
    public const string UnsupportedBlockDevice = "DIB0007";
    public const string EnvironmentFileFailed = "DIB0008";
    public const string HookClash = "DIB0010";
    public const string HookNotExecutable = "DIB0011";
    public const string BadPackageInstalls = "DIB0012";
    public const string TopLevelFileReplaced = "DIB0013";
    public const string HookNameIgnored = "DIB0014";
    public const string UnknownImageFormat = "DIB0020";
    public const string InvalidProperty = "DIB0021";
    public const string InvalidBreakPoint = "DIB0022";
    public const string InvalidOption = "DIB0023";
    public const string UnsupportedImageFormat = "DIB0024";
    public const string InvalidImageName = "DIB0025";
    public const string InvalidPackageName = "DIB0026";
    public const string ImageFileIsDirectory = "DIB0027";
    public const string BadHookFile = "DIB0028";
    // DIB0030 (building needs root) is retired: a build that is not root runs in a user namespace (DIB070x).
    public const string MissingHostTools = "DIB0031";
    public const string ScriptFailed = "DIB0040";
    public const string Cancelled = "DIB0041";
    public const string MountsLeftBehind = "DIB0042";
    public const string NoRootTree = "DIB0043";
    public const string StoppedAtBreakPoint = "DIB0044";
    public const string ImageLocked = "DIB0045";
    public const string HostFileError = "DIB0046";

    /// <summary>A secret-looking variable's value at build time is not the one the request file recorded (as a hash).</summary>
    public const string SecretChanged = "DIB0047";

    /// <summary>ImageSize beyond what the partition table (MBR: 2 TiB) or the root filesystem can address; checked before any work.</summary>
    public const string DiskTooLarge = "DIB0048";

    /// <summary>ImageSize larger than the largest file the host's filesystem holds where the disk is assembled or written.</summary>
    public const string HostCannotHoldDisk = "DIB0049";
    public const string OutputFailed = "DIB0050";
    public const string PhaseCacheUnavailable = "DIB0060";
    public const string SnapshotInvalid = "DIB0061";
    public const string PreviousImageChanged = "DIB0062";

    // 007x: DIB's infrastructure elements (package-installs, pkg-map, install types, manifests).
    public const string WhenVariableNotSet = "DIB0070";
    public const string EnvironmentFilesFailed = "DIB0071";

    /// <summary>Raised by the SDK's Pack target (sdk/Sdk/DiskImageBuilder.targets): dotnet pack of an image project.</summary>
    public const string PackNotApplicable = "DIB0090";
    public const string ToolFailed = "DIB0100";
    public const string PartitionLayoutDoesNotFit = "DIB0200";
    public const string InvalidPartitionLayout = "DIB0201";
    public const string DiskFileMismatch = "DIB0202";
    public const string FileSystemFailed = "DIB0210";
    public const string NoBootloader = "DIB0211";
    public const string NoKernel = "DIB0212";
    public const string ImageTooSmall = "DIB0213";
    public const string BootFailed = "DIB0214";

    // Block-device configuration (DIB_BLOCK_DEVICE_CONFIG, BlockDeviceConfig, block-device-default.yaml).
    public const string BlockDeviceConfigSyntax = "DIB0220";
    public const string UnknownBlockDevicePlugin = "DIB0221";
    public const string DuplicateBlockDeviceName = "DIB0222";
    public const string BlockDeviceEdgeUndefined = "DIB0223";
    public const string BlockDeviceCycle = "DIB0224";
    public const string BlockDeviceMissingKey = "DIB0225";
    public const string FileSystemLabelTooLong = "DIB0226";
    public const string DuplicateFileSystemLabel = "DIB0227";
    public const string DuplicateMountPoint = "DIB0228";
    public const string BlockDeviceBadValue = "DIB0229";
    public const string BlockDeviceUnsupported = "DIB0230";
    public const string BlockDeviceConfigNotFound = "DIB0231";
    public const string FileSystemDoesNotFit = "DIB0232";
    public const string NoRootMount = "DIB0233";
    // 024x: filesystems of a block-device layout (tree split, makers, placement, fstab).
    public const string InvalidMountPoint = "DIB0240";
    public const string MountPointNotDirectory = "DIB0241";
    public const string UnknownFileSystemType = "DIB0242";
    public const string FileSystemSizeInvalid = "DIB0243";
    public const string ExtentsTooSmall = "DIB0244";

    // 025x: LVM written without device-mapper.
    public const string LvmConfigInvalid = "DIB0250";
    public const string LvmUnsupported = "DIB0251";
    public const string LvmSizeInvalid = "DIB0252";
    public const string LvmDoesNotFit = "DIB0253";
    public const string LvmToolMissing = "DIB0254";

    // Ramdisks (ramdisk-image-create, ImageType=ramdisk).
    public const string RamdiskNotProduced = "DIB0500";
    public const string InvalidImageType = "DIB0501";
    public const string RamdiskBinaryMissing = "DIB0502";
    public const string BadRamdiskPart = "DIB0503";
    public const string GetKernelFailed = "DIB0504";

    public const string InvalidImagePath = "DIB0300";
    public const string ImagePathCollision = "DIB0301";
    public const string InvalidImageItem = "DIB0302";
    public const string ImageFileNotFound = "DIB0303";
    public const string AppEntryPointNotFound = "DIB0304";
    public const string AciDeprecated = "DIB0400";
    public const string InvalidDockerTarget = "DIB0401";
    public const string InvalidSourceDateEpoch = "DIB0402";

    /// <summary>Raised by the SDK (sdk/Sdk/DiskImageBuilder.targets): ImageDeterministic=true outside git without SOURCE_DATE_EPOCH.</summary>
    public const string NoCommitForDeterministic = "DIB0403";
    // 060x: apt's package cache in the image cache (DIB_APT_LOCAL_CACHE).
    public const string PackageCacheUnavailable = "DIB0600";

    // 072x: images of another architecture (arm64 on an amd64 host).
    public const string ForeignArchitectureUnavailable = "DIB0720";
    public const string ArchitectureBootMode = "DIB0721";

    public const string Internal = "DIB0999";

    // 070x: rootless builds (a user namespace with the user's subordinate IDs).

    /// <summary>Not root, and /etc/subuid or /etc/subgid gives the user no range of subordinate IDs.</summary>
    public const string NoSubordinateIds = "DIB0700";

    /// <summary>Not root, and the host refused a user namespace (newuidmap missing or not setuid, a policy, no namespaces left).</summary>
    public const string UserNamespaceRefused = "DIB0701";

    /// <summary>A part of the build that only the host's root can do (a loop mount for xfs) in a rootless build.</summary>
    public const string NeedsRealRoot = "DIB0702";
}

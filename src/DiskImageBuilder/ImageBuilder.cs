using System.Diagnostics;
using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Content;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using DiskImageBuilder.Request;
using DiskImageBuilder.Snapshots;

namespace DiskImageBuilder;

/// <summary>
/// Builds an image from a <see cref="BuildRequest"/>: checks the host, resolves elements, merges
/// the hooks, runs every phase, writes the outputs. The work directory is removed afterwards,
/// whatever happened.
/// </summary>
public static class ImageBuilder
{
    public static IReadOnlyList<string> Build(BuildRequest request, IBuildLog log, CancellationToken cancellationToken) =>
        Build(request, log, interactive: false, cancellationToken);

    /// <param name="interactive">Whether break points may open a shell on our terminal (the CLI with a tty); otherwise they stop the build.</param>
    public static IReadOnlyList<string> Build(BuildRequest request, IBuildLog log, bool interactive, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        RequestValues.CheckImageName(request.ImageName, Where(request));
        RequestValues.CheckPackages(request.Packages, Where(request));
        // A ramdisk's outputs are its kernel and initramfs: the formats do not apply (as in DIB).
        var formats = request.RamdiskElement is null ? ImageFormats.Parse(request.Formats, Where(request)) : [];
        BreakPoints.Parse(request.BreakPoints, Where(request));
        var epoch = BuildTime.Epoch(request);
        if (formats.Any(f => f.Name == "docker"))
        {
            ContainerImage.Target(request.DockerTarget, request.ImageName, Where(request));
        }
        // Normalised here; every later stage reads the request's canonical values.
        request = request with
        {
            RootFileSystem = BlockDevice.FileSystems.NormalizeType(request.RootFileSystem, Where(request)),
        };
        RequestValues.ParseRootLabel(BlockDevice.DiskImage.RootLabel(request), "RootLabel", Where(request), BlockDevice.FileSystems.MaxLabelLength(request.RootFileSystem));
        var repository = new ElementRepository(request.ElementsPath);
        var elements = ResolveElements(repository, request);
        // A block-device configuration, when given, is the layout: checked here, before any work.
        (request, var configured, _) = BlockDevice.BlockDeviceChoice.Resolve(request, elements, Where(request));
        // Without a configuration, the BootMode's own layout, in the same model and assembled the same way.
        var rootDefaults = new RootDefaults(request.RootFileSystem, string.IsNullOrWhiteSpace(request.RootLabel) ? null : request.RootLabel, request.MkfsOptions);
        var layout = configured ?? BootModes.Config(request.BootMode, rootDefaults);
        log.Message(LogImportance.Normal, $"DiskImageBuilder: elements: {string.Join(' ', elements.Names)}");

        HookChecks.Check(elements.Elements);
        if (request.RamdiskElement is not null)
        {
            Ramdisk.CheckInitParts(elements.Elements, cancellationToken);
        }

        var rootless = !Environment.IsPrivilegedProcess;
        HostTools.Check(HostTools.Engine.Concat(rootless ? UserNamespace.HostTools : []).Concat(elements.Elements.SelectMany(e => e.HostTools())).Concat(configured is null
            ? BlockDevice.DiskImage.HostTools(formats, request.BootMode, request.RootFileSystem)
            : BlockDevice.DiskImage.HostTools(formats, BootModes.Bios, FileSystems.Ext4).Concat(formats.Any(f => f.IsDisk) ? LayoutDisk.HostTools(configured) : [])).Concat(Outputs.HostTools(formats)));
        BlockDevice.DiskLimits.Check(request, formats, Where(request), configured is { Tables.Count: > 0 } ? configured.Tables[0].Label : null);
        if (rootless && formats.Any(f => f.IsDisk) && request.RootFileSystem == FileSystems.Xfs)
        {
            throw FileSystems.XfsNeedsRoot(Where(request));
        }

        // Not root: the build's programs run as root in a user namespace of the user's own (until the build ends).
        using var userNamespace = rootless ? UserNamespace.Create(Environment.UserName, UserNamespace.Uid()) : null;

        // Before the work directory is touched: a second build of this image would delete the first's tree.
        using var imageLock = ImageLock.Take(request, log, cancellationToken);
        // Removed when the build ends, however it ends (a killed build's handler goes at the next build's start).
        using var foreign = ForeignArchitecture.Register(request.Architecture, log, cancellationToken);
        var work = Path.GetFullPath(request.WorkDirectory);
        HostFiles.RemoveTree(work);
        if (request.RamdiskElement is not null)
        {
            Ramdisk.RemovePrevious(Outputs.PathOf(request));
        }

        BreakPoints? breaks = null;
        PhaseCache? cache = null;
        PackageCache? packages = null;
        try
        {
            var root = Path.Combine(work, "root");
            var hooksRoot = Path.Combine(work, "hooks");
            Directory.CreateDirectory(root);
            var hooks = HooksTree.Create(hooksRoot, elements.Elements, log);
            var lib = Path.Combine(work, "lib");
            HookLibrary.Write(lib, hooksRoot);
            // DIB writes this file itself after copying the elements' files: it replaces an element's file of that name.
            Directory.CreateDirectory(Path.Combine(hooksRoot, HooksTree.EnvironmentDir));
            File.WriteAllText(Path.Combine(hooksRoot, HooksTree.EnvironmentDir, ImageEnvironment.InstallTypeFileName), ImageEnvironment.InstallTypeFile(request));
            var env = ImageEnvironment.ForScripts(request, elements, root, hooksRoot, lib);
            var runner = new PhaseRunner(hooks, root, env, ImageEnvironment.WorkingDirectory(request), log);
            // DIB squashes package-installs in extra-data.d, where environment.d has been sourced. An
            // environment.d file that fails is left to the first hook, which names it (DIB0008), as in DIB.
            IReadOnlyDictionary<string, string> sourced;
            try
            {
                sourced = ImageEnvironment.Sourced(
                    runner.HostEnvironment(), hooks.EnvironmentFiles().Select(f => Path.Combine(hooksRoot, f)), ImageEnvironment.WorkingDirectory(request), cancellationToken);
            }
            catch (DibException failed) when (failed.Diagnostics.All(d => d.Code == DibCodes.EnvironmentFilesFailed))
            {
                log.Message(LogImportance.Low, $"DiskImageBuilder: package-installs conditions see the unsourced environment: {failed.Message}");
                sourced = runner.HostEnvironment();
            }

            PackageInstalls.Write(hooksRoot, PackageInstalls.Squash(elements.Elements, request.Packages, request.Architecture, sourced));

            ImageContent.CheckCollisions(request.Files, request.Services, []);
            var content = ImageContent.Stage(hooksRoot, request.Files, request.Services);

            var maxCache = request.ImageCacheMaxSize ?? PhaseCache.DefaultMaxBytes;
            packages = PackageCache.Open(env["DIB_IMAGE_CACHE"], sourced, log);
            if (packages is not null)
            {
                env[PackageCache.ViewVariable] = packages.View;
            }

            // The package cache and the snapshots share ImageCacheMaxSize; packages keep up to half of it
            // ahead of the snapshots (a rebuild from cached packages is cheap, a download is not).
            cache = OpenPhaseCache(request, env, elements, hooksRoot, StepNames(content is not null), root, maxCache - Math.Min(packages?.PoolBytes ?? 0, maxCache / 2), log);
            var tree = cache?.TreeView ?? root;
            runner = new PhaseRunner(hooks, root, env, ImageEnvironment.WorkingDirectory(request), log) { TreeView = tree, Enter = cache?.Enter ?? [], PackageCacheView = packages?.View };
            breaks = new BreakPoints(request.BreakPoints, interactive, work, root, runner.HostEnvironment(), log);
            // DIB's DIB_IMAGE_SIZE from block-device.d on: the disk's size in KiB, fixed from the tree
            // as post-install.d left it; the disk is made at least that large.
            long? diskSize = null;
            void BeforePhase(Phase phase, CancellationToken token)
            {
                // Where DIB checks a ramdisk's programs: after install.d, before post-install.d builds it.
                if (phase == Phase.PostInstall && request.RamdiskElement is not null)
                {
                    Ramdisk.CheckTree(elements.Elements, tree);
                }

                if (phase != Phase.BlockDevice && phase != Phase.Finalise && phase != Phase.Cleanup)
                {
                    return;
                }

                // DIB writes fstab from the configuration once the block device exists, before finalise.d,
                // whose hooks may then edit it; a phase restored from the cache already holds it.
                // The BootMode layouts leave fstab to the vm element, as before they were in this model.
                if (configured is not null && phase == Phase.Finalise && formats.Any(f => f.IsDisk))
                {
                    LayoutDisk.WriteFstab(configured, tree);
                }

                if (formats.Any(f => f.IsDisk))
                {
                    diskSize ??= LayoutDisk.PlannedSize(request, layout, tree, token);
                    runner.SetVariable("DIB_IMAGE_SIZE", (diskSize.Value / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            var steps = Steps(runner, tree, breaks, content, BeforePhase);
            try
            {
                for (var i = 0; i < (cache?.Restored ?? 0); i++)
                {
                    log.StepTimed(new StepTiming(steps[i].Name, TimeSpan.Zero, Restored: true));
                }

                for (var i = cache?.Restored ?? 0; i < steps.Count; i++)
                {
                    var clock = Stopwatch.StartNew();
                    steps[i].Run(cancellationToken);
                    log.StepTimed(new StepTiming(steps[i].Name, clock.Elapsed, Restored: false));
                    packages?.Harvest();
                    cache?.AfterStep(i);
                }
            }
            catch (DibException failure) when (failure.Diagnostics.All(d => d.Code != DibCodes.StoppedAtBreakPoint))
            {
                breaks.AfterFailure(failure, cancellationToken);
                throw;
            }

            var mountPoint = Path.Combine(tree, PhaseRunner.InTargetHooks.TrimStart('/'));
            if (Directory.Exists(mountPoint))
            {
                Directory.Delete(mountPoint, recursive: false);
            }

            // The packages as the tree holds them now, also recorded in the image where DIB keeps its manifests.
            var installed = PackageInventory.Read(tree);
            packages?.MarkUsed(installed.Select(p => (p.Name, p.Version, p.Architecture)));
            var sbom = new Sbom.Content(
                request.ImageName, [.. elements.Names], installed, PackageInventory.Distro(tree), [], BuildTime.Of(request));
            var manifests = Path.Combine(tree, Sbom.ManifestDirectory);
            if (Directory.Exists(manifests) && new DirectoryInfo(manifests).LinkTarget is null)
            {
                // Root only, like every manifest there (the manifests element's rule).
                foreach (var file in Sbom.PathsBeside(Path.Combine(manifests, "sbom")))
                {
                    Sbom.Write(sbom, file, log);
                    File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }
            }

            if (epoch is { } clamp)
            {
                BuildTime.ClampTree(tree, clamp, cancellationToken);
            }

            // Tree formats first: the disk stage moves the ESP's files out of the tree.
            var outputs = new List<string>(Outputs.WriteTreeFormats(request, formats, tree, Path.Combine(work, "outputs"), log, cancellationToken));
            if (request.RamdiskElement is { } ramdisk)
            {
                outputs.AddRange(Ramdisk.Outputs(Outputs.PathOf(request), ramdisk));
            }

            if (formats.Any(f => f.IsDisk))
            {
                // A tree with no OS, no block-device element and no configuration is one bare filesystem (DIB's default); any other disk is its layout's.
                var bare = configured is null && FileSystemDisk.Applies(tree, elements);
                if (bare)
                {
                    log.Message(LogImportance.Normal, $"DiskImageBuilder: no kernel, no shell and no block-device element: the disk is one {request.RootFileSystem} filesystem, no partition table (DIB's default layout)");
                }

                outputs.AddRange(LayoutDisk.Create(request, bare ? FileSystemDisk.Config(rootDefaults) : layout, tree, work, formats, log, diskSize, cancellationToken, named: configured is null));
            }

            Output.Checksums.Write(outputs, request.Checksums);
            var described = sbom with { Images = [.. outputs.Select(o => (o, ContainerImage.Sha256Of(o, cancellationToken)))] };
            foreach (var file in Sbom.PathsBeside(Outputs.PathOf(request)))
            {
                Sbom.Write(described, file, log);
            }

            log.Message(LogImportance.High, $"DiskImageBuilder: {request.ImageName} built in {total.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", outputs.Select(o => $"{o} ({Outputs.SizeText(o)})"))}");
            return outputs;
        }
        finally
        {
            try
            {
                try
                {
                    cache?.Dispose();
                }
                finally
                {
                    if (packages is not null)
                    {
                        var max = request.ImageCacheMaxSize ?? PhaseCache.DefaultMaxBytes;
                        packages.Harvest();
                        packages.Evict(Math.Max(0, max - (cache?.KeptBytes ?? 0)));
                        packages.Dispose();
                    }
                }
            }
            finally
            {
                // A build stopped at a break point leaves its tree for the user to inspect.
                if (breaks?.Stopped != true)
                {
                    HostFiles.RemoveTree(work);
                }
            }
        }
    }

    /// <summary>
    /// The elements of an image: the requested ones, base unless skipped, and DIB's default
    /// block-device element when an element needs `block-device` and none provides it (DIB adds
    /// block-device-mbr for `vm`; see <see cref="BlockDeviceChoice"/>).
    /// </summary>
    public static ResolvedElements ResolveElements(ElementRepository repository, BuildRequest request) =>
        ElementResolver.Resolve(
            repository,
            request.RamdiskElement is { } ramdisk ? [new ElementRequest(ramdisk), .. request.Elements.Where(e => e.Name != ramdisk)] : request.Elements,
            request.SkipBaseElement, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [BlockDeviceChoice.Provided] = BlockDeviceChoice.DefaultElement(request.Architecture, request.BootMode),
        });

    /// <summary>One step of the build: a phase, or the generated step installing ImageFile items and apps.</summary>
    private sealed record Step(string Name, Action<CancellationToken> Run);

    private static List<string> StepNames(bool hasContent) =>
        [.. Phase.All.Take(4).Select(p => p.Name), .. hasContent ? [ImageContent.HooksDir] : Array.Empty<string>(), .. Phase.All.Skip(4).Select(p => p.Name)];

    /// <param name="root">The tree as the engine reaches it.</param>
    /// <param name="content">The generated script installing ImageFile items and apps, if any.</param>
    /// <param name="beforePhase">Runs before each phase (the ramdisk's checks, the disk's size and fstab).</param>
    private static List<Step> Steps(PhaseRunner runner, string root, BreakPoints breaks, string? content, Action<Phase, CancellationToken> beforePhase)
    {
        Step Run(Phase phase, bool network = false) => new(phase.Name, cancellationToken =>
        {
            beforePhase(phase, cancellationToken);
            breaks.Before(phase, cancellationToken);

            // Per phase, so no snapshot ever holds the host's resolv.conf.
            using (network ? new ResolvConfSwap(root) : null)
            {
                runner.Run(phase, cancellationToken);
            }

            breaks.After(phase, cancellationToken);
        });

        var steps = new List<Step> { Run(Phase.Root), Run(Phase.ExtraData), Run(Phase.PreInstall, network: true), Run(Phase.Install, network: true) };

        // After the packages (so owners and service users resolve), before post-install.d (so its scripts see the files).
        if (content is not null)
        {
            steps.Add(new Step(ImageContent.HooksDir, cancellationToken => runner.RunGenerated(ImageContent.HooksDir, content, cancellationToken)));
        }

        steps.AddRange([Run(Phase.PostInstall, network: true), Run(Phase.BlockDevice), Run(Phase.Finalise), Run(Phase.Cleanup)]);
        Debug.Assert(steps.Select(s => s.Name).SequenceEqual(StepNames(content is not null)), "step names and steps agree");
        return steps;
    }

    private static PhaseCache? OpenPhaseCache(
        BuildRequest request, Dictionary<string, string> env, ResolvedElements elements, string hooksRoot, List<string> steps, string root, long maxBytes, IBuildLog log)
    {
        var why = !request.PhaseCache ? "DisablePhaseCache is set"
            : request.BreakPoints.Count > 0 ? "break points need every phase to run"
            : null;
        if (why is not null)
        {
            log.Message(LogImportance.Normal, $"DiskImageBuilder: phase snapshots off: {why}");
            return null;
        }

        var inputs = BuildInputs.Compute(hooksRoot, env, elements.Names, steps, PhaseRunner.EngineScripts, elements.Elements);
        return PhaseCache.Open(env["DIB_IMAGE_CACHE"], root, hooksRoot, inputs, Outputs.PathOf(request), maxBytes, Memory.TreeInMemory(env.GetValueOrDefault("DIB_NO_TMPFS") == "1", MinimumTmpfsGib(env)), log);
    }

    /// <summary>DIB_MIN_TMPFS in GiB (default 2, as DIB); a bad value is DIB0021, as --min-tmpfs's.</summary>
    internal static long MinimumTmpfsGib(IReadOnlyDictionary<string, string> env) =>
        env.TryGetValue("DIB_MIN_TMPFS", out var gib) ? RequestValues.ParseCount(gib, "DIB_MIN_TMPFS", null) : 2;

    private static SourceLocation? Where(BuildRequest request) =>
        request.ProjectFile is null ? null : new SourceLocation(request.ProjectFile);
}

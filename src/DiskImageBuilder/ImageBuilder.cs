using System.Diagnostics;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;

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
        var formats = ImageFormats.Parse(request.Formats, Where(request));
        BreakPoints.Parse(request.BreakPoints, Where(request));
        // Validated and normalised once here; every later stage reads the request's canonical values.
        request = request with
        {
            BootMode = BlockDevice.BootModes.Normalize(request.BootMode, Where(request)),
            RootFileSystem = BlockDevice.FileSystems.NormalizeType(request.RootFileSystem, Where(request)),
        };
        RequestValues.ParseRootLabel(BlockDevice.DiskImage.RootLabel(request), "RootLabel", Where(request), BlockDevice.FileSystems.MaxLabelLength(request.RootFileSystem));
        var repository = new ElementRepository(request.ElementsPath);
        var elements = ElementResolver.Resolve(repository, request.Elements, request.SkipBaseElement);
        log.Message(LogImportance.Normal, $"DiskImageBuilder: elements: {string.Join(' ', elements.Names)}");

        HostTools.CheckRoot();
        HostTools.Check(HostTools.Engine.Concat(HostTools.ForElements(elements.Elements)).Concat(BlockDevice.DiskImage.HostTools(formats, request.BootMode, request.RootFileSystem)));

        var work = Path.GetFullPath(request.WorkDirectory);
        HostFiles.RemoveTree(work);
        BreakPoints? breaks = null;
        try
        {
            var root = Path.Combine(work, "root");
            var hooksRoot = Path.Combine(work, "hooks");
            Directory.CreateDirectory(root);
            var hooks = HooksTree.Create(hooksRoot, elements.Elements, log);
            var env = ImageEnvironment.ForScripts(request, elements, root, hooksRoot);
            PackageInstalls.Write(hooksRoot, PackageInstalls.Squash(elements.Elements, request.Packages, request.Architecture, env));

            ImageContent.CheckCollisions(request.Files, request.Services, []);
            var content = ImageContent.Stage(hooksRoot, request.Files, request.Services);

            var runner = new PhaseRunner(hooks, root, env, log);
            breaks = new BreakPoints(request.BreakPoints, interactive, work, root, runner.HostEnvironment(), log);
            try
            {
                RunPhases(runner, root, breaks, content, cancellationToken);
            }
            catch (DibException failure) when (failure.Diagnostics.All(d => d.Code != DibCodes.StoppedAtBreakPoint))
            {
                breaks.AfterFailure(failure, cancellationToken);
                throw;
            }

            var mountPoint = Path.Combine(root, PhaseRunner.InTargetHooks.TrimStart('/'));
            if (Directory.Exists(mountPoint))
            {
                Directory.Delete(mountPoint, recursive: false);
            }

            // Tree formats first: the disk stage moves the ESP's files out of the tree.
            var outputs = new List<string>();
            foreach (var format in formats.Where(f => !f.IsDisk))
            {
                var path = Path.Combine(Path.GetFullPath(request.OutputDirectory), $"{request.ImageName}.{format.Extension}");
                Outputs.Write(format, root, path, log, cancellationToken);
                outputs.Add(path);
            }

            if (formats.Any(f => f.IsDisk))
            {
                outputs.AddRange(BlockDevice.DiskImage.Create(request, root, work, formats, log, cancellationToken));
            }

            BlockDevice.DiskImage.WriteChecksums(outputs, request.Checksums);

            log.Message(LogImportance.High, $"DiskImageBuilder: {request.ImageName} built in {total.Elapsed.TotalSeconds:0.0} s");
            return outputs;
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

    /// <param name="content">The generated script installing ImageFile items and apps, if any.</param>
    private static void RunPhases(PhaseRunner runner, string root, BreakPoints breaks, string? content, CancellationToken cancellationToken)
    {
        void Run(Phase phase)
        {
            breaks.Before(phase, cancellationToken);
            runner.Run(phase, cancellationToken);
            breaks.After(phase, cancellationToken);
        }

        Run(Phase.Root);
        Run(Phase.ExtraData);
        PhaseRunner.ShellInImage(root);
        using (new ResolvConfSwap(root))
        {
            Run(Phase.PreInstall);
            Run(Phase.Install);

            // After the packages (so owners and service users resolve), before post-install.d (so its scripts see the files).
            if (content is not null)
            {
                runner.RunGenerated(ImageContent.HooksDir, content, cancellationToken);
            }

            Run(Phase.PostInstall);
        }

        Run(Phase.BlockDevice);
        Run(Phase.Finalise);
        Run(Phase.Cleanup);
    }

    private static SourceLocation? Where(BuildRequest request) =>
        request.ProjectFile is null ? null : new SourceLocation(request.ProjectFile);
}

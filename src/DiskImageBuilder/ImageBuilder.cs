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
    public static IReadOnlyList<string> Build(BuildRequest request, IBuildLog log, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var formats = ImageFormats.Parse(request.Formats, Where(request));
        var repository = new ElementRepository(request.ElementsPath);
        var elements = ElementResolver.Resolve(repository, request.Elements, request.SkipBaseElement);
        log.Message(LogImportance.Normal, $"DiskImageBuilder: elements: {string.Join(' ', elements.Names)}");

        HostTools.CheckRoot();
        HostTools.Check(HostTools.Engine.Concat(HostTools.ForElements(elements.Elements)));

        var work = Path.GetFullPath(request.WorkDirectory);
        HostFiles.RemoveTree(work);
        try
        {
            var root = Path.Combine(work, "root");
            var hooksRoot = Path.Combine(work, "hooks");
            Directory.CreateDirectory(root);
            var hooks = HooksTree.Create(hooksRoot, elements.Elements, log);
            var env = ImageEnvironment.ForScripts(request, elements, root, hooksRoot);
            PackageInstalls.Write(hooksRoot, PackageInstalls.Squash(elements.Elements, request.Packages, request.Architecture, env));

            var runner = new PhaseRunner(hooks, root, env, log);
            RunPhases(runner, root, cancellationToken);
            var mountPoint = Path.Combine(root, PhaseRunner.InTargetHooks.TrimStart('/'));
            if (Directory.Exists(mountPoint))
            {
                Directory.Delete(mountPoint, recursive: false);
            }

            var outputs = new List<string>();
            foreach (var format in formats)
            {
                var path = Path.Combine(Path.GetFullPath(request.OutputDirectory), $"{request.ImageName}.{format.Extension}");
                Outputs.Write(format, root, path, log, cancellationToken);
                outputs.Add(path);
            }

            log.Message(LogImportance.High, $"DiskImageBuilder: {request.ImageName} built in {total.Elapsed.TotalSeconds:0.0} s");
            return outputs;
        }
        finally
        {
            HostFiles.RemoveTree(work);
        }
    }

    private static void RunPhases(PhaseRunner runner, string root, CancellationToken cancellationToken)
    {
        runner.Run(Phase.Root, cancellationToken);
        runner.Run(Phase.ExtraData, cancellationToken);
        PhaseRunner.ShellInImage(root);
        using (new ResolvConfSwap(root))
        {
            runner.Run(Phase.PreInstall, cancellationToken);
            runner.Run(Phase.Install, cancellationToken);
            runner.Run(Phase.PostInstall, cancellationToken);
        }

        runner.Run(Phase.BlockDevice, cancellationToken);
        runner.Run(Phase.Finalise, cancellationToken);
        runner.Run(Phase.Cleanup, cancellationToken);
    }

    private static SourceLocation? Where(BuildRequest request) =>
        request.ProjectFile is null ? null : new SourceLocation(request.ProjectFile);
}

using DiskImageBuilder.Elements;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;

namespace DiskImageBuilder.Cli;

/// <summary>
/// element-info: what the elements path holds and what a set of elements expands to, through the
/// same repository and resolver as the SDK (so the same DIB#### errors).
/// </summary>
public static class ElementInfo
{
    public const string Name = "element-info";

    private static readonly OptionSpec List = new(null, "list");
    private static readonly OptionSpec Expand = new('d', "expand-dependencies");
    private static readonly OptionSpec Env = new(null, "env");
    private static readonly OptionSpec Help = new('h', "help");
    private static readonly OptionSpec Version = new(null, "version");

    public static readonly IReadOnlyList<OptionSpec> Options = [List, Expand, Env, Help, Version];

    public const string Usage = """
        Usage: element-info --list
               element-info --expand-dependencies ELEMENT...
               element-info --env ELEMENT

          --list                       every element on the path (ELEMENTS_PATH, then the packaged library) and its directory
          -d, --expand-dependencies    the elements these expand to, one per line, sorted (base is not added;
                                       like DIB, one of them must provide operating-system)
          --env                        the variables the element's environment.d files export, as NAME=value
          -h, --help                   show this help
          --version                    show the version
        """;

    public static int Run(IReadOnlyList<string> args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (options, operands) = GetOpt.Parse(Options, args);
        var modes = options.Select(o => o.Option).Distinct().ToList();
        if (modes.Contains(Help))
        {
            context.Out.WriteLine(Usage);
            return 0;
        }

        if (modes.Contains(Version))
        {
            context.Out.WriteLine($"{Name} {DiskImageCreate.VersionText()}");
            return 0;
        }

        if (modes.Count != 1)
        {
            throw new UsageException("give exactly one of --list, --expand-dependencies or --env");
        }

        var repository = new ElementRepository(RequestValues.SearchPath([], context.Variable("ELEMENTS_PATH"), context.ElementsLibrary));
        var mode = modes[0];
        if (mode == List)
        {
            if (operands.Count > 0)
            {
                throw new UsageException("--list takes no elements");
            }

            var all = repository.ListAll();
            var width = all.Count == 0 ? 0 : all.Max(e => e.Name.Length);
            foreach (var element in all)
            {
                context.Out.WriteLine($"{element.Name.PadRight(width)}  {element.Directory}");
            }
        }
        else if (mode == Expand)
        {
            if (operands.Count == 0)
            {
                throw new UsageException("--expand-dependencies needs at least one element");
            }

            var resolved = ElementResolver.Resolve(repository, [.. operands.Select(n => new ElementRequest(n))], skipBase: true);
            foreach (var name in resolved.Names)
            {
                context.Out.WriteLine(name);
            }
        }
        else
        {
            if (operands.Count != 1)
            {
                throw new UsageException("--env takes exactly one element");
            }

            foreach (var (key, value) in EnvironmentOf(repository, operands[0], context.CancellationToken))
            {
                context.Out.WriteLine($"{key}={value}");
            }
        }

        return 0;
    }

    /// <summary>Sources the element's environment.d files in a clean bash and returns the exported variables they added or changed.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> EnvironmentOf(ElementRepository repository, string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var element = repository.Find(name) ?? throw new DibException(
            DibCodes.ElementNotFound,
            $"Element '{name}' was not found on the elements path: {string.Join(":", repository.SearchPath)}. Add the directory that holds it to ELEMENTS_PATH.");
        var dir = Path.Combine(element.Directory, HooksTree.EnvironmentDir);
        var files = Directory.Exists(dir) ? Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal).ToList() : [];
        if (files.Count == 0)
        {
            return [];
        }

        var before = Path.GetTempFileName();
        var after = Path.GetTempFileName();
        try
        {
            const string Script = """
                set -e
                before=$1; after=$2; shift 2
                env -0 > "$before"
                for f in "$@"; do . "$f"; done
                env -0 > "$after"
                """;
            ProcessRunner.RunChecked(
                new ProcessSpec("bash", ["-c", Script, "element-env", before, after, .. files])
                {
                    ClearEnvironment = true,
                    Environment = new Dictionary<string, string> { ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" },
                    WorkingDirectory = element.Directory,
                },
                null,
                cancellationToken);
            var old = ReadEnv(before);
            return [.. ReadEnv(after)
                .Where(kv => kv.Key != "_" && (!old.TryGetValue(kv.Key, out var v) || v != kv.Value))
                .OrderBy(kv => kv.Key, StringComparer.Ordinal)];
        }
        finally
        {
            File.Delete(before);
            File.Delete(after);
        }
    }

    private static Dictionary<string, string> ReadEnv(string file) =>
        File.ReadAllText(file).Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Split('=', 2))
            .Where(p => p.Length == 2)
            .GroupBy(p => p[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last()[1], StringComparer.Ordinal);
}

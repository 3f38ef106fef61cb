using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using System.Text;
using DiskImageBuilder.Host;

namespace DiskImageBuilder.Content;

/// <summary>
/// Files and services composed into the image from outside the elements: validated where the
/// project is read (so errors point at the item), then installed by one generated script that runs
/// inside the image after install.d, so owners resolve against the image's own users and
/// post-install.d scripts already see the files.
/// </summary>
public static partial class ImageContent
{
    public const string FileMode = "0644";
    public const string ExecutableMode = "0755";
    public const string RootOwner = "root:root";

    /// <summary>The reserved folder of the hooks tree that holds the staged files and the script.</summary>
    public const string HooksDir = "dib-content.d";

    private const string ScriptName = "install-content";

    /// <summary>An absolute, normalised path inside the image.</summary>
    public static string ParseImagePath(string value, SourceLocation? location)
    {
        var path = value.Trim();
        if (!path.StartsWith('/') || path.Length < 2 || path.Any(char.IsControl) || path.Contains('\\', StringComparison.Ordinal)
            || path.Split('/').Any(s => s is "." or ".."))
        {
            throw new DibException(
                DibCodes.InvalidImagePath,
                $"ImagePath '{value}' is not an absolute path inside the image (such as /opt/web) without '.' or '..' parts.",
                location);
        }

        return "/" + string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries));
    }

    public static ImageFileRequest ImageFile(string source, string imagePath, string? mode, string? owner, SourceLocation? location)
    {
        if (Directory.Exists(source))
        {
            throw new DibException(
                DibCodes.ImageFileIsDirectory,
                $"ImageFile '{source}' is a directory; an ImageFile item is one file. List its files instead (<ImageFile Include=\"{source.TrimEnd('/')}/**\" ImagePath=\"…\"/> per file) or copy the folder with an element's extra-data.d or install.d script.",
                location);
        }

        if (!File.Exists(source))
        {
            throw new DibException(DibCodes.ImageFileNotFound, $"ImageFile '{source}' does not exist.", location);
        }

        return new ImageFileRequest(Path.GetFullPath(source), ParseImagePath(imagePath, location))
        {
            Mode = string.IsNullOrWhiteSpace(mode) ? FileMode : Checked(mode.Trim(), ModePattern(), "Mode", "an octal mode such as 0644", location),
            Owner = string.IsNullOrWhiteSpace(owner) ? RootOwner : Checked(owner.Trim(), OwnerPattern(), "Owner", "user:group such as root:root", location),
            Location = location,
        };
    }

    /// <summary>
    /// An app's published files at its ImagePath (0755 where the publish made them executable,
    /// 0644 otherwise, all root:root) and, with a ServiceName, its service.
    /// </summary>
    public static (IReadOnlyList<ImageFileRequest> Files, ServiceRequest? Service) ForApp(AppSpec app)
    {
        var imagePath = ParseImagePath(app.ImagePath, app.Location);
        var serviceName = string.IsNullOrWhiteSpace(app.ServiceName)
            ? null
            : Checked(app.ServiceName.Trim(), ServiceNamePattern(), "ServiceName", "lower-case letters, digits, '-' and '_', starting with a letter (it also names the service's user)", app.Location);
        var environment = ParseEnvironment(app.ServiceEnvironment, app.Location);

        // Before the first real build (a design-time build) there is nothing published yet.
        if (!Directory.Exists(app.PublishDirectory))
        {
            return ([], null);
        }

        var files = Directory.EnumerateFiles(app.PublishDirectory, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(f => new ImageFileRequest(f, imagePath + "/" + Path.GetRelativePath(app.PublishDirectory, f))
            {
                Mode = HostFiles.IsExecutable(f) ? ExecutableMode : FileMode,
                Location = app.Location,
            })
            .ToList();
        if (serviceName is null)
        {
            return (files, null);
        }

        var service = new ServiceRequest(serviceName, ExecStart(app, imagePath), imagePath) { Environment = environment, Location = app.Location };
        return (files, service);
    }

    /// <summary>Two items writing one image path, apps nested in each other, or two services of one name: errors naming both.</summary>
    public static void CheckCollisions(IReadOnlyList<ImageFileRequest> files, IReadOnlyList<ServiceRequest> services, IReadOnlyList<(string Name, string ImagePath, SourceLocation? Location)> apps)
    {
        var errors = new List<Diagnostic>();
        void Collision(string what, SourceLocation? here, SourceLocation? first) => errors.Add(new Diagnostic(
            DibCodes.ImagePathCollision,
            $"{what} collides with another item{(first is null ? string.Empty : $" at {first}")}: each file in the image must come from one item.",
            here));

        var paths = new Dictionary<string, SourceLocation?>(StringComparer.Ordinal);
        foreach (var file in files.Concat(services.Select(s => new ImageFileRequest(string.Empty, UnitPath(s.Name)) { Location = s.Location })))
        {
            if (!paths.TryAdd(file.ImagePath, file.Location))
            {
                Collision($"ImagePath '{file.ImagePath}'", file.Location, paths[file.ImagePath]);
            }
        }

        for (var i = 0; i < apps.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                var (a, b) = (apps[i].ImagePath, apps[j].ImagePath);
                if (a == b || a.StartsWith(b + "/", StringComparison.Ordinal) || b.StartsWith(a + "/", StringComparison.Ordinal))
                {
                    Collision($"App ImagePath '{a}'", apps[i].Location, apps[j].Location);
                }

                // Apps publish to obj/…/dib/apps/NAME/: one folder per project name.
                if (apps[i].Name == apps[j].Name)
                {
                    Collision($"App project name '{apps[i].Name}'", apps[i].Location, apps[j].Location);
                }
            }

            if (paths.TryGetValue(apps[i].ImagePath, out var file))
            {
                Collision($"App ImagePath '{apps[i].ImagePath}'", apps[i].Location, file);
            }
        }

        foreach (var twice in services.GroupBy(s => s.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            Collision($"ServiceName '{twice.Key}'", twice.Last().Location, twice.First().Location);
        }

        if (errors.Count > 0)
        {
            throw new DibException(errors);
        }
    }

    /// <summary>
    /// Copies the files into the hooks tree and writes the script that installs them and the
    /// services from inside the image; returns the script's path, or null when there is nothing to do.
    /// </summary>
    public static string? Stage(string hooksRoot, IReadOnlyList<ImageFileRequest> files, IReadOnlyList<ServiceRequest> services)
    {
        if (files.Count == 0 && services.Count == 0)
        {
            return null;
        }

        var dir = Path.Combine(hooksRoot, HooksDir);
        Directory.CreateDirectory(dir);
        var inImage = $"{Hooks.PhaseRunner.InTargetHooks}/{HooksDir}";
        var script = new StringBuilder("#!/bin/sh\n# Generated by DiskImageBuilder: ImageFile items, published apps and their services.\nset -eu\n");
        var all = files.Concat(services.Select(s => new ImageFileRequest(Path.Combine(dir, s.Name + ".service"), UnitPath(s.Name))));
        foreach (var service in services)
        {
            File.WriteAllText(Path.Combine(dir, service.Name + ".service"), Unit(service));
        }

        // One cp per file, but one mkdir, chown and chmod for all: an app is hundreds of files.
        var list = all.ToList();
        var parents = list.Select(f => f.ImagePath[..f.ImagePath.LastIndexOf('/')]).Where(d => d.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (parents.Count > 0)
        {
            script.Append(CultureInfo.InvariantCulture, $"mkdir -p {string.Join(' ', parents.Select(Quote))}\n");
        }

        for (var n = 0; n < list.Count; n++)
        {
            File.Copy(list[n].Source, Path.Combine(dir, $"file{n}"));
            script.Append(CultureInfo.InvariantCulture, $"cp {inImage}/file{n} {Quote(list[n].ImagePath)}\n");
        }

        foreach (var group in list.GroupBy(f => f.Owner, StringComparer.Ordinal))
        {
            script.Append(CultureInfo.InvariantCulture, $"chown {group.Key} {string.Join(' ', group.Select(f => Quote(f.ImagePath)))}\n");
        }

        foreach (var group in list.GroupBy(f => f.Mode, StringComparer.Ordinal))
        {
            script.Append(CultureInfo.InvariantCulture, $"chmod {group.Key} {string.Join(' ', group.Select(f => Quote(f.ImagePath)))}\n");
        }

        if (services.Count > 0)
        {
            // useradd where the image has it (Debian); minimal trees (busybox) get the lines written
            // directly, with the first free system id counting down from 999.
            script.Append("""
                add_system_user() {
                  id -u "$1" >/dev/null 2>&1 && return 0
                  if command -v useradd >/dev/null 2>&1; then
                    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$1"
                  else
                    n=999
                    while grep -q "^[^:]*:[^:]*:$n:" /etc/passwd /etc/group; do n=$((n - 1)); done
                    echo "$1:x:$n:" >> /etc/group
                    echo "$1:x:$n:$n::/nonexistent:/sbin/nologin" >> /etc/passwd
                  fi
                }
                mkdir -p /etc/systemd/system/multi-user.target.wants

                """);
        }

        foreach (var s in services)
        {
            script.Append(CultureInfo.InvariantCulture, $"add_system_user {s.Name}\nln -sf {UnitPath(s.Name)} /etc/systemd/system/multi-user.target.wants/{s.Name}.service\n");
        }

        var path = Path.Combine(dir, ScriptName);
        File.WriteAllText(path, script.ToString());
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(ExecutableMode, 8));
        return path;
    }

    /// <summary>The systemd unit of a service.</summary>
    public static string Unit(ServiceRequest service)
    {
        var env = string.Concat(service.Environment.Select(e => $"Environment=\"{e.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("%", "%%", StringComparison.Ordinal)}\"\n"));
        return $"""
            # Generated by DiskImageBuilder.
            [Unit]
            Description={service.Name}
            Wants=network-online.target
            After=network-online.target

            [Service]
            Type=simple
            User={service.Name}
            Group={service.Name}
            WorkingDirectory={service.WorkingDirectory}
            ExecStart={service.ExecStart}
            {env}Restart=on-failure
            RestartSec=2

            [Install]
            WantedBy=multi-user.target

            """;
    }

    public static string UnitPath(string serviceName) => $"/etc/systemd/system/{serviceName}.service";

    // The entry point is the one *.runtimeconfig.json at the top; a self-contained publish
    // ("includedFrameworks") runs its app host, a framework-dependent one runs through dotnet.
    private static string ExecStart(AppSpec app, string imagePath)
    {
        var configs = Directory.GetFiles(app.PublishDirectory, "*.runtimeconfig.json");
        if (configs.Length != 1)
        {
            throw new DibException(
                DibCodes.AppEntryPointNotFound,
                $"'{app.Name}' published no single *.runtimeconfig.json to {app.PublishDirectory}, so it is not an app a service can run (found {configs.Length}).",
                app.Location);
        }

        var name = Path.GetFileName(configs[0])[..^".runtimeconfig.json".Length];
        var selfContained = File.ReadAllText(configs[0]).Contains("\"includedFrameworks\"", StringComparison.Ordinal);
        return selfContained && File.Exists(Path.Combine(app.PublishDirectory, name))
            ? $"{imagePath}/{name}"
            : $"/usr/bin/dotnet {imagePath}/{name}.dll";
    }

    private static IReadOnlyList<string> ParseEnvironment(string? value, SourceLocation? location) =>
        [.. (value ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => Checked(e, EnvironmentPattern(), "ServiceEnvironment", "NAME=VALUE pairs separated by ';'", location))];

    private static string Checked(string value, Regex pattern, string what, string expected, SourceLocation? location) =>
        pattern.IsMatch(value)
            ? value
            : throw new DibException(DibCodes.InvalidImageItem, $"Invalid {what} '{value}': expected {expected}.", location);

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex("^0?[0-7]{3}$|^[0-7]{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex ModePattern();

    [GeneratedRegex("^([a-z_][a-z0-9_-]*|[0-9]+)(:([a-z_][a-z0-9_-]*|[0-9]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex OwnerPattern();

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceNamePattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*=[^\r\n]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentPattern();
}

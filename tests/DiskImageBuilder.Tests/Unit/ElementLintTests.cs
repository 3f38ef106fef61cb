using System.Text.RegularExpressions;
using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// Our own element lint, in the spirit of DIB's dib-lint: every element this repository ships
/// (the library, the tests' and the samples') keeps the conventions its README promises.
/// </summary>
[Trait(Tier.Name, Tier.Unit)]
public sealed partial class ElementLintTests
{
    /// <summary>The one trace idiom every hook and helper uses.</summary>
    public const string TraceLine = """if [ "${DIB_DEBUG_TRACE:-0}" -gt 0 ]; then set -x; fi""";

    private static IEnumerable<string> ElementDirectories() =>
        new[] { Repo.Elements, Repo.TestElements }
            .Concat(Directory.EnumerateDirectories(Path.Combine(Repo.Root, "samples")).Select(s => Path.Combine(s, "elements")))
            .Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories)
            .Order(StringComparer.Ordinal);

    /// <summary>Scripts run as programs: phase-folder hooks (also in folders below them, like install-types') and bin/ helpers.</summary>
    private static IEnumerable<string> Programs(string element) =>
        Phase.All.Select(p => p.Name).Append(HooksTree.BinDir)
            .Select(d => Path.Combine(element, d))
            .Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories));

    private static IEnumerable<string> EnvironmentFiles(string element) =>
        Directory.Exists(Path.Combine(element, HooksTree.EnvironmentDir)) ? Directory.EnumerateFiles(Path.Combine(element, HooksTree.EnvironmentDir)) : [];

    private static string Name(string file) => Path.GetRelativePath(Repo.Root, file);

    [Fact]
    public void Every_element_has_a_readme()
    {
        ElementDirectories().Where(e => !File.Exists(Path.Combine(e, "README.md")) && !File.Exists(Path.Combine(e, "README.rst")))
            .Select(Name).ShouldBeEmpty("each element says what it does, its variables and phases");
    }

    [Fact]
    public void Hooks_and_helpers_are_executable_strict_shell_scripts_with_the_one_trace_idiom()
    {
        var problems = new List<string>();
        foreach (var file in ElementDirectories().SelectMany(Programs))
        {
            var lines = File.ReadAllLines(file);
            if (!HostFiles.IsExecutable(file))
            {
                problems.Add($"{Name(file)}: not executable (git update-index --chmod=+x)");
            }

            var shell = lines.FirstOrDefault() switch
            {
                "#!/bin/bash" or "#!/usr/bin/env bash" => "bash",
                "#!/bin/sh" or "#!/usr/bin/env sh" => "sh",
                var other => null,
            };
            if (shell is null)
            {
                problems.Add($"{Name(file)}: starts with '{lines.FirstOrDefault()}', not #!/bin/bash or #!/bin/sh");
                continue;
            }

            var flags = string.Concat(lines.Select(l => SetFlags().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value));
            if (!flags.Contains('e', StringComparison.Ordinal) || !flags.Contains('u', StringComparison.Ordinal))
            {
                problems.Add($"{Name(file)}: no 'set -eu'");
            }

            if (shell == "bash" && !lines.Any(l => l.Contains("pipefail", StringComparison.Ordinal)))
            {
                problems.Add($"{Name(file)}: bash without 'set -o pipefail'");
            }

            if (!lines.Any(l => l.Trim() == TraceLine))
            {
                problems.Add($"{Name(file)}: no trace line '{TraceLine}'");
            }
        }

        problems.ShouldBeEmpty();
    }

    [Fact]
    public void Environment_files_are_sourced_not_run_and_free_of_side_effects()
    {
        var problems = new List<string>();
        foreach (var file in ElementDirectories().SelectMany(EnvironmentFiles))
        {
            if (HostFiles.IsExecutable(file))
            {
                problems.Add($"{Name(file)}: executable (environment.d files are sourced; chmod -x)");
            }

            var lineNo = 0;
            foreach (var line in File.ReadLines(file))
            {
                lineNo++;
                var code = line.Split('#')[0];
                if (SideEffect().IsMatch(code))
                {
                    problems.Add($"{Name(file)}({lineNo}): '{line.Trim()}' changes something (sourced before every script: move it into a hook)");
                }
            }
        }

        problems.ShouldBeEmpty();
    }

    [Fact]
    public void Shell_files_are_shellcheck_clean()
    {
        var files = ElementDirectories().SelectMany(e => Programs(e).Concat(EnvironmentFiles(e)))
            .Concat(Directory.EnumerateFiles(Path.Combine(Repo.Root, "src", "DiskImageBuilder", "Resources"), "*.sh"))
            .Select(Name)
            .ToList();
        files.ShouldNotBeEmpty();
        var r = ProcessRunner.Run(
            new ProcessSpec("shellcheck", ["--severity=warning", "--shell=bash", "--format=gcc", .. files]) { WorkingDirectory = Repo.Root, TailLines = 200 },
            null,
            CancellationToken.None);
        r.ExitCode.ShouldBe(0, r.TailText);
    }

    [GeneratedRegex(@"^\s*set\s+(?:-o\s+\w+\s+)*-([a-z]+)")]
    private static partial Regex SetFlags();

    /// <summary>A command that changes files or the system, or output written to a file (not /dev/null, not another descriptor).</summary>
    [GeneratedRegex(@"(^|[;&|(]\s*|\bthen\s+|\bdo\s+)(mkdir|rm|rmdir|cp|mv|touch|chmod|chown|ln|tee|dd|mount|umount|apt-get|apt|dpkg|install|useradd|sed\s+-i)\b|\d?>>?\s*(?!/dev/null|&)[^\s&]")]
    private static partial Regex SideEffect();
}

using DiskImageBuilder.Elements;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// The infrastructure elements (and no-docs) in real Debian builds (debian-minimal from the host's mirror,
/// its base tree from the shared image cache): generic names reach apt mapped, dib-python,
/// dib-init-system and pkg-map run with Debian's own tools (mawk, dash, apt).
/// </summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class InfraDebianTests
{
    [Fact]
    public void Debian_gets_generic_names_mapped_a_dib_python_and_systemd_as_its_init_system()
    {
        using var p = new ImageProject("""
              <PropertyGroup>
                <ImageFormat>tar</ImageFormat>
                <!-- The test reads what the hooks print: they must run, not be restored from an earlier run's snapshots. -->
                <DisablePhaseCache>true</DisablePhaseCache>
              </PropertyGroup>
              <ItemGroup>
                <Element Include="debian-minimal" />
                <Element Include="generic-names" />
              </ItemGroup>
            """);
        p.Write("elements/generic-names/element-deps", "dib-python\npackage-installs\n", false);
        // DIB's shape for a Python library: a generic name per Python version, mapped per family.
        p.Write("elements/generic-names/package-installs.yaml", """
            PyYAML:
              phase: pre-install.d
              dib_python_version: 2
            python3-PyYAML:
              phase: pre-install.d
              dib_python_version: 3
            no-such-thing-on-debian:
            """, false);
        p.Write("elements/generic-names/pkg-map", """
            { "family": { "debian": { "PyYAML": "python-yaml", "python3-PyYAML": "python3-yaml", "no-such-thing-on-debian": "" } },
              "default": { "PyYAML": "PyYAML", "python3-PyYAML": "python3-PyYAML" } }
            """, false);
        p.Write("elements/generic-names/post-install.d/50-check", """
            #!/bin/sh
            set -eu
            {
              dib-init-system
              echo "DIB_INIT_SYSTEM=$DIB_INIT_SYSTEM"
              pkg-map --element generic-names python3-PyYAML
              /usr/local/bin/dib-python -c 'import yaml; print("yaml", yaml.safe_load("a: 1")["a"])'
              echo "DIB_PYTHON=$DIB_PYTHON"
            } > /etc/infra-check
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        File.ReadAllLines(Path.Combine(tree, "etc/infra-check")).ShouldBe([
            "systemd", "DIB_INIT_SYSTEM=systemd", "python3-yaml", "yaml 1", "DIB_PYTHON=python3"]);
        var packages = File.ReadAllText(Path.Combine(tree, "etc/dib-manifests/packages"));
        packages.ShouldContain("python3-yaml\t");
        packages.ShouldNotContain("python-yaml\t", Case.Sensitive, "the Python 2 entry does not apply");
        File.Exists(Path.Combine(tree, "usr/local/bin/dib-python")).ShouldBeFalse("cleanup.d removes the build-only link");
        File.Exists(Path.Combine(tree, "usr/local/bin/pkg-map")).ShouldBeTrue("install-bin");
        File.Exists(Path.Combine(tree, "usr/share/pkg-map/generic-names")).ShouldBeTrue();
        // install-packages runs the postinsts' py3compile calls after apt, in parallel: the modules
        // are compiled, and the real py3compile is back, with no diversion left.
        Directory.GetFiles(Path.Combine(tree, "usr/lib/python3/dist-packages/yaml/__pycache__"), "*.cpython-3*.pyc").Length.ShouldBeGreaterThan(5);
        File.ReadAllText(Path.Combine(tree, "usr/bin/py3compile")).ShouldStartWith("#! /usr/bin/python3");
        File.ReadAllText(Path.Combine(tree, "var/lib/dpkg/diversions")).ShouldNotContain("py3compile");
        Directory.GetFiles(Path.Combine(tree, "tmp"), "dib-py3compile*").ShouldBeEmpty();
        run.Messages.ShouldContain(m => m.Contains("dib-package-installs: generic-names: install python3-yaml", StringComparison.Ordinal), run.Output);
        p.MountsUnderProject().ShouldBeEmpty();
    }

    [Fact]
    public void No_docs_keeps_only_copyright_files_from_the_base_tree_and_from_packages_installed_after_it()
    {
        using var p = new ImageProject("""
              <PropertyGroup>
                <ImageFormat>tar</ImageFormat>
              </PropertyGroup>
              <ItemGroup>
                <Element Include="debian-minimal" />
                <Element Include="no-docs" />
                <Package Include="less" />
                <ImageEnvironment Include="DIB_NO_DOCS_KEEP" Value="man/man1" />
              </ItemGroup>
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        string[] Files(string dir) => [.. Directory.EnumerateFileSystemEntries(Path.Combine(tree, dir), "*", SearchOption.AllDirectories)
            .Where(f => !Directory.Exists(f) || new FileInfo(f).LinkTarget is not null)
            .Select(f => Path.GetRelativePath(tree, f))];
        // less is installed after the element ran, bash came with the base tree: both keep only their licence.
        Files("usr/share/doc").ShouldAllBe(f => Path.GetFileName(f) == "copyright");
        Files("usr/share/doc").ShouldContain("usr/share/doc/less/copyright");
        Files("usr/share/doc").ShouldContain("usr/share/doc/bash/copyright");
        // DIB_NO_DOCS_KEEP: section 1 manual pages stay, for packages installed before and after.
        Files("usr/share/man").ShouldContain("usr/share/man/man1/less.1.gz");
        Files("usr/share/man").ShouldAllBe(f => f.StartsWith("usr/share/man/man1/", StringComparison.Ordinal));
        File.ReadAllText(Path.Combine(tree, "etc/dpkg/dpkg.cfg.d/90-dib-no-docs")).ShouldContain("path-exclude=/usr/share/doc/*");
        p.MountsUnderProject().ShouldBeEmpty();
    }
}

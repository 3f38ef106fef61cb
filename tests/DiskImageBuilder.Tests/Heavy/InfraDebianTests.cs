using DiskImageBuilder.Elements;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// The infrastructure elements in one real Debian build (debian-minimal from the host's mirror,
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
        run.Messages.ShouldContain(m => m.Contains("dib-package-installs: generic-names: install python3-yaml", StringComparison.Ordinal), run.Output);
        p.MountsUnderProject().ShouldBeEmpty();
    }
}

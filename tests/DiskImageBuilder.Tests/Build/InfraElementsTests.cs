using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// DIB's infrastructure elements of our library (pkg-map, package-installs, install-types,
/// install-bin, install-static, dib-init-system, svc-map) in real builds of the offline busybox
/// tree. Needs root.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class InfraElementsTests
{
    private const string Map = """
        {
          "release": { "debian": { "bookworm": { "tool": "tool-bookworm" } } },
          "distro":  { "debian": { "tool": "tool-debian", "gone": "" }, "fedora": { "tool": "tool-fedora" } },
          "family":  { "debian": { "tool": "tool-debian-family", "fam": "fam-debian" }, "redhat": { "fam": "fam-redhat" } },
          "default": { "tool": "tool-default", "fam": "fam-default", "plain": "plain-default" }
        }
        """;

    [Fact]
    public void Pkg_map_picks_release_then_distro_then_family_then_default_and_exits_as_DIB_does()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="mapper" />""");
        p.Write("elements/mapper/element-deps", "pkg-map\n", false);
        p.Write("elements/mapper/pkg-map", Map, false);
        p.Write("elements/mapper/install.d/50-ask", """
            #!/bin/sh
            # One line per call: the arguments, what it printed (joined by commas) and its exit status.
            ask() {
              pkg-map "$@" > /tmp/out 2>/dev/null && rc=0 || rc=$?
              echo "$* => $(tr '\n' ',' < /tmp/out) rc=$rc"
            }
            {
              ask --element mapper --distro debian --release bookworm tool
              ask --element mapper --distro debian --release trixie tool
              ask --element mapper --distro ubuntu tool fam plain
              ask --element mapper --distro centos tool fam
              ask --element mapper --distro fedora tool
              ask --element mapper --distro someos --family redhat fam
              ask --element mapper --distro debian gone plain
              ask --element mapper --distro debian missing
              ask --element mapper --distro debian --missing-ok missing plain
              ask --element mapper --distro debian --prefix - tool plain
              ask --element nothere --distro debian tool
              ask --element nothere --distro debian --missing-ok tool
              ask --distro debian tool
              ask --pkg-map /usr/share/pkg-map/mapper --element mapper --distro debian tool
              DISTRO_NAME=fedora DIB_RELEASE=bookworm ask --element mapper tool
              ask --element mapper tool
              DISTRO_NAME= ask --element mapper tool
            } > /etc/pkg-map-results
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        File.ReadAllText(Path.Combine(tree, "usr/share/pkg-map/mapper")).ShouldBe(Map, "extra-data.d copies each element's map into the image");
        File.ReadAllLines(Path.Combine(tree, "etc/pkg-map-results")).ShouldBe([
            "--element mapper --distro debian --release bookworm tool => tool-bookworm, rc=0",
            "--element mapper --distro debian --release trixie tool => tool-debian, rc=0",
            "--element mapper --distro ubuntu tool fam plain => tool-debian-family,fam-debian,plain-default, rc=0",
            "--element mapper --distro centos tool fam => tool-default,fam-redhat, rc=0",
            "--element mapper --distro fedora tool => tool-fedora, rc=0",
            "--element mapper --distro someos --family redhat fam => fam-redhat, rc=0",
            "--element mapper --distro debian gone plain => plain-default, rc=0",
            "--element mapper --distro debian missing =>  rc=1",
            "--element mapper --distro debian --missing-ok missing plain => missing,plain-default, rc=0",
            "--element mapper --distro debian --prefix - tool plain => -tool-debian,-plain-default, rc=0",
            "--element nothere --distro debian tool =>  rc=2",
            "--element nothere --distro debian --missing-ok tool => tool, rc=0",
            "--distro debian tool =>  rc=1",
            "--pkg-map /usr/share/pkg-map/mapper --element mapper --distro debian tool =>  rc=1",
            "--element mapper tool => tool-fedora, rc=0",
            "--element mapper tool => tool-default, rc=0",
            "--element mapper tool =>  rc=1",
        ]);
    }

    [Fact]
    public void Package_installs_maps_each_elements_names_and_honours_phase_arch_uninstall_and_when()
    {
        using var p = ImageProject.Busybox(
            """<ItemGroup><ImageEnvironment Include="DIB_WANT_EXTRA" Value="yes" /><Package Include="image-pkg" /></ItemGroup>""",
            """<Element Include="wants" /><Element Include="other" />""");
        // The busybox tree plays Debian for pkg-map; its install-packages records each call.
        p.Write("elements/wants/environment.d/10-wants", "export DISTRO_NAME=debian\nexport DIB_FLAVOUR=${DIB_FLAVOUR:-small}\n", false);
        p.Write("elements/wants/element-deps", "package-installs\n", false);
        p.Write("elements/wants/pkg-map", """
            { "family": { "debian": { "dhcp-client": "isc-dhcp-client", "PyYAML": "python3-yaml", "nothing-here": "" } },
              "default": { "dhcp-client": "dhclient", "growpart": "growpart-generic" },
              "distro": { "debian": { "growpart": "cloud-guest-utils" } } }
            """, false);
        p.Write("elements/wants/package-installs.yaml", """
            dhcp-client:
            growpart:
              phase: pre-install.d
            PyYAML:
              phase: post-install.d
            nothing-here:
            unmapped-name:
            old-thing:
              uninstall: true
            only-amd64:
              arch: amd64, i386
            not-on-amd64:
              not-arch: amd64
            only-arm64:
              arch: arm64
            extra-tool:
              when: DIB_WANT_EXTRA = yes
            not-when:
              when: DIB_WANT_EXTRA != yes
            big-flavour:
              when:
                - DIB_FLAVOUR = big
                - DIB_WANT_EXTRA = yes
            small-flavour:
              when:
                - DIB_FLAVOUR = small
                - DIB_WANT_EXTRA = yes
            """, false);
        // As in DIB, pre-install.d packages install at 10: an element's earlier hook (adding a package source) runs first.
        p.Write("elements/wants/pre-install.d/05-add-source", "#!/bin/sh\necho source-added >> /var/log/install-packages.log\n");
        // Another element's names go through its own map (none here: used as given). Elements
        // are taken in resolution order (sorted): "other" before "wants".
        p.Write("elements/other/package-installs.yaml", "dhcp-client:\n  phase: post-install.d\n", false);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        File.ReadAllLines(Path.Combine(p.Extract(), "var/log/install-packages.log")).ShouldBe([
            "source-added",
            "cloud-guest-utils",
            "isc-dhcp-client unmapped-name only-amd64 extra-tool small-flavour image-pkg old-thing-",
            "dhcp-client python3-yaml",
        ]);
    }

    [Fact]
    public void A_when_on_an_unset_variable_stops_the_build_with_DIB0070_at_the_line()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="wants" />""");
        var yaml = p.Write("elements/wants/package-installs.yaml", "a:\nb:\n  when: DIB_NEVER_SET = 1\n", false);

        var run = p.Build();

        var e = run.Errors.ShouldHaveSingleItem();
        e.Code.ShouldBe("DIB0070");
        e.Text.ShouldContain("DIB_NEVER_SET is not set");
        e.File.ShouldBe(yaml);
        e.LineNumber.ShouldBe(3);
    }

    [Fact]
    public void Install_types_link_the_chosen_types_scripts_into_install_d()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="app" />""");
        p.Write("elements/app/element-deps", "install-types\n", false);
        foreach (var prefix in (string[])["alpha", "beta-tool"])
        {
            foreach (var type in (string[])["source", "package"])
            {
                p.Write($"elements/app/install.d/{prefix}-{type}-install/60-{prefix}", $"#!/bin/sh\necho {prefix}:{type} >> /etc/install-types\n");
            }
        }

        p.Write("elements/app/install.d/50-common", "#!/bin/sh\necho common >> /etc/install-types\n");
        p.Write("elements/app/install.d/70-after", "#!/bin/sh\necho after >> /etc/install-types\n");
        p.Environment["DIB_INSTALLTYPE_beta_tool"] = "package";

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        File.ReadAllLines(Path.Combine(p.Extract(), "etc/install-types")).ShouldBe(["common", "alpha:source", "beta-tool:package", "after"]);

        p.Environment.Remove("DIB_INSTALLTYPE_beta_tool");
        p.Environment["DIB_DEFAULT_INSTALLTYPE"] = "package";
        var second = p.Build();

        second.Succeeded.ShouldBeTrue(second.Output);
        File.ReadAllLines(Path.Combine(p.Extract(), "etc/install-types")).ShouldBe(["common", "alpha:package", "beta-tool:package", "after"]);
    }

    [Fact]
    public void Install_bin_and_install_static_put_element_files_into_the_image()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="files" />""");
        p.Write("elements/files/element-deps", "install-bin\ninstall-static\n", false);
        p.Write("elements/files/bin/hello-tool", "#!/bin/sh\necho hello\n");
        // A merged-/usr tree: /lib is a link, which install-static must fill, not replace.
        p.Write("elements/files/root.d/50-merged-usr", "#!/bin/sh\nmkdir -p \"$TARGET_ROOT/usr/lib\"\nln -s usr/lib \"$TARGET_ROOT/lib\"\n");
        p.Write("elements/files/static/etc/motd", "static motd\n", false);
        p.Write("elements/files/static/usr/local/sbin/run-me", "#!/bin/sh\n", true);
        p.Write("elements/files/static/lib/extra/data.txt", "data\n", false);
        p.Write("elements/files/static/etc/.git/config", "not for the image\n", false);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        var tool = Path.Combine(tree, "usr/local/bin/hello-tool");
        File.ReadAllText(tool).ShouldContain("echo hello");
        File.GetUnixFileMode(tool).ShouldBe((UnixFileMode)0b111_101_101);
        File.ReadAllText(Path.Combine(tree, "etc/motd")).ShouldBe("static motd\n");
        File.GetUnixFileMode(Path.Combine(tree, "usr/local/sbin/run-me")).HasFlag(UnixFileMode.UserExecute).ShouldBeTrue();
        new FileInfo(Path.Combine(tree, "lib")).LinkTarget.ShouldBe("usr/lib", "the image's /lib link stays");
        File.ReadAllText(Path.Combine(tree, "usr/lib/extra/data.txt")).ShouldBe("data\n");
        Directory.Exists(Path.Combine(tree, "etc/.git")).ShouldBeFalse();
        ImageProject.Sh($"stat -c '%u:%g' '{tree}/etc/motd' '{tree}/usr/lib/extra/data.txt' '{tool}'").Trim().ShouldBe("0:0\n0:0\n0:0");
    }

    [Fact]
    public void Dib_init_system_prints_the_init_system_and_installs_its_scripts()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="service" />""");
        p.Write("elements/service/element-deps", "dib-init-system\n", false);
        p.Write("elements/service/init-scripts/systemd/demo.service", "[Unit]\nDescription=demo\n", false);
        p.Write("elements/service/init-scripts/sysv/demo", "#!/bin/sh\n", true);
        p.Write("elements/service/install.d/80-ask", "#!/bin/sh\n/usr/local/bin/dib-init-system > /etc/init-system\necho \"$DIB_INIT_SYSTEM\" >> /etc/init-system\n");

        // The busybox tree sets nothing: its /bin/init makes it sysv.
        var guessed = p.Build();

        guessed.Succeeded.ShouldBeTrue(guessed.Output);
        var tree = p.Extract();
        File.ReadAllLines(Path.Combine(tree, "etc/init-system")).ShouldBe(["sysv", "sysv"]);
        File.Exists(Path.Combine(tree, "etc/init.d/demo")).ShouldBeTrue();

        p.Environment["DIB_INIT_SYSTEM"] = "systemd";
        var set = p.Build();

        set.Succeeded.ShouldBeTrue(set.Output);
        tree = p.Extract();
        File.ReadAllLines(Path.Combine(tree, "etc/init-system")).ShouldBe(["systemd", "systemd"]);
        File.ReadAllText(Path.Combine(tree, "usr/lib/systemd/system/demo.service")).ShouldContain("Description=demo");

        p.Environment["DIB_INIT_SYSTEM"] = "runit";
        var bad = p.Build();

        bad.Succeeded.ShouldBeFalse();
        var e = bad.Errors.ShouldHaveSingleItem();
        e.Code.ShouldBe("DIB0040");
        e.Text.ShouldContain("DIB_INIT_SYSTEM='runit' is not one of systemd, upstart, openrc, sysv");
    }

    [Fact]
    public void Svc_map_merges_the_elements_maps_for_the_distro_and_maps_names()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="web" /><Element Include="db" />""");
        p.Write("elements/web/environment.d/10-web", "export DISTRO_NAME=ubuntu\n", false);
        p.Write("elements/web/element-deps", "svc-map\n", false);
        p.Write("elements/web/svc-map", """
            # The web server.
            web-server:
              default: httpd
              debian: apache2
            cache:
              default: "memcached"
              ubuntu: 'memcached-ubuntu'   # distro beats family
            """, false);
        p.Write("elements/db/svc-map", "database:\n  redhat: mariadb\n  default: mysql\nplain:\n", false);
        p.Write("elements/db/install.d/80-ask", """
            #!/bin/sh
            mkdir -p /lib/systemd/system && touch /lib/systemd/system/from-source.service
            svc-map web-server cache database plain unknown from-source > /etc/svc-map-results
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        File.ReadAllLines(Path.Combine(tree, "usr/share/svc-map/services")).ShouldBe([
            "cache: memcached-ubuntu", "database: mysql", "plain: plain", "web-server: apache2"]);
        File.ReadAllLines(Path.Combine(tree, "etc/svc-map-results")).ShouldBe([
            "apache2", "memcached-ubuntu", "mysql", "plain", "unknown", "from-source"]);

        p.Write("elements/db/svc-map", "web-server:\n  default: nginx\n", false);
        var clash = p.Build();

        clash.Succeeded.ShouldBeFalse();
        clash.Errors.ShouldHaveSingleItem().Text.ShouldContain("service 'web-server' is mapped by both web and db", Case.Sensitive, clash.Output);
    }
}

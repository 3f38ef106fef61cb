using DiskImageBuilder.Elements;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>DIB's configuration-only system elements, built into the offline busybox tree (no boot needed). Needs root.</summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class SystemElementConfigTests
{
    private static string Read(string tree, string path) => File.ReadAllText(Path.Combine(tree, path));

    [Fact]
    public void Sysctl_modprobe_journal_serial_console_interface_names_and_nocloud_write_their_files()
    {
        using var p = ImageProject.Busybox(elements: """
            <Element Include="sysctl" />
            <Element Include="modprobe" />
            <Element Include="disable-nouveau" />
            <Element Include="journal-to-console" />
            <Element Include="enable-serial-console" />
            <Element Include="stable-interface-names" />
            <Element Include="cloud-init-nocloud" />
            <Element Include="user" />
            """);
        p.Environment["DIB_MODPROBE_BLACKLIST"] = "igb  e1000e";
        // busybox-tree is no OS element: set what one would.
        p.Environment["DIB_INIT_SYSTEM"] = "systemd";
        // What packages would have put there: cloud-init's drop-in folder, a link switching stable names off.
        p.Write("elements/user/pre-install.d/10-as-if-installed", """
            #!/bin/sh
            set -eu
            mkdir -p /etc/cloud/cloud.cfg.d /etc/systemd/network
            ln -s /dev/null /etc/systemd/network/99-default.link
            """);
        p.Write("elements/user/install.d/90-sysctl", """
            #!/bin/sh
            set -eu
            sysctl-write-value net.ipv4.ip_forward 1 "routing on"
            sysctl-write-value net.ipv4.ip_forward 1
            sysctl-set-value vm.swappiness 10
            """);
        p.Write("elements/user/modprobe.d/user.conf", "options loop max_loop=16\n", false);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        Read(tree, "etc/sysctl.d/net.ipv4.ip_forward.conf").ShouldBe("# routing on\nnet.ipv4.ip_forward = 1\n");
        Read(tree, "etc/sysctl.d/vm.swappiness.conf").ShouldEndWith("\nvm.swappiness = 10\n");
        Read(tree, "etc/modprobe.d/blacklist.conf").ShouldBe("blacklist igb\nblacklist e1000e\n");
        Read(tree, "etc/modprobe.d/disable-nouveau.conf").ShouldContain("blacklist nouveau\noptions nouveau modeset=0\n");
        Read(tree, "etc/modprobe.d/user.conf").ShouldBe("options loop max_loop=16\n");
        Read(tree, "etc/systemd/journald.conf.d/log-to-console.conf").ShouldContain("[Journal]\nForwardToConsole=yes\n");
        Read(tree, "etc/udev/rules.d/99-serial-console.rules").ShouldContain("ENV{SYSTEMD_WANTS}+=\"serial-getty@$name.service\"");
        File.Exists(Path.Combine(tree, "etc/systemd/network/99-default.link")).ShouldBeFalse();
        Read(tree, "etc/cloud/cloud.cfg.d/91-dib-cloud-init-datasources.cfg").ShouldContain("datasource_list: [ NoCloud, None ]");
        File.Exists(Path.Combine(tree, "etc/cloud/cloud.cfg.d/92-ec2-datasource.cfg")).ShouldBeFalse();
        Read(tree, "var/lib/cloud/seed/nocloud/user-data").ShouldBeEmpty();
        Read(tree, "var/lib/cloud/seed/nocloud/meta-data").ShouldBeEmpty();
    }

    [Fact]
    public void Cloud_init_datasources_lists_the_sources_and_adds_Ec2_and_ConfigDrive_settings()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="cloud-init-datasources" /><Element Include="user" />""");
        p.Environment["DIB_CLOUD_INIT_DATASOURCES"] = "Ec2, ConfigDrive ,OpenStack";
        p.Write("elements/user/pre-install.d/10-cloud-dir", "#!/bin/sh\nmkdir -p /etc/cloud/cloud.cfg.d\n");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        Read(tree, "etc/cloud/cloud.cfg.d/91-dib-cloud-init-datasources.cfg").ShouldContain("datasource_list: [ Ec2, ConfigDrive, OpenStack, None ]");
        Read(tree, "etc/cloud/cloud.cfg.d/92-ec2-datasource.cfg").ShouldContain("strict_id: false");
        Read(tree, "etc/cloud/cloud.cfg.d/93-dib-cloud-init-disable-datasource-network-activation.cfg").ShouldContain("disable_network_activation: true");
    }

    [Theory]
    [InlineData("sysctl-write-value net.ipv4.ip_forward 1; sysctl-write-value net.ipv4.ip_forward 0", "conflicts with /etc/sysctl.d/net.ipv4.ip_forward.conf")]
    [InlineData("sysctl-set-value net.ipv4.no_such_knob 1", "the kernel has no parameter net.ipv4.no_such_knob")]
    public void Sysctl_commands_fail_on_a_conflicting_value_and_an_unknown_name(string commands, string message)
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="sysctl" /><Element Include="user" />""");
        p.Write("elements/user/install.d/90-sysctl", $"#!/bin/sh\nset -eu\n{commands}\n");

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        run.Output.ShouldContain(message);
        run.Output.ShouldContain("90-sysctl");
    }

    [Fact]
    public void Cloud_init_datasources_without_a_list_fails_saying_what_to_set()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="cloud-init-datasources" />""");

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        run.Output.ShouldContain("set DIB_CLOUD_INIT_DATASOURCES");
    }

    [Fact]
    public void Sysprep_extract_image_makes_the_tree_from_a_disk_images_root_filesystem_and_ESP()
    {
        using var disk = ImageProject.Busybox(
            "<PropertyGroup><ImageFormat>qcow2</ImageFormat><BootMode>uefi</BootMode></PropertyGroup>",
            """<Element Include="host-grub" /><Element Include="marker" />""");
        disk.Write("elements/marker/install.d/10-marker", "#!/bin/sh\necho from-the-disk > /etc/marker\n");
        var built = disk.Build();
        built.Succeeded.ShouldBeTrue(built.Output);

        // A distro element the way DIB's cloud-image ones call it (DIB_LOCAL_IMAGE: no download).
        using var p = new ImageProject($"""
              <PropertyGroup><SkipBaseElement>true</SkipBaseElement><ImageFormat>tar</ImageFormat></PropertyGroup>
              <ItemGroup><Element Include="from-disk" /></ItemGroup>
            """);
        p.Environment["DIB_IMAGE_CACHE"] = p.Combine("cache");
        p.Environment["DIB_LOCAL_IMAGE"] = disk.OutputFile("qcow2");
        p.Write("elements/from-disk/element-deps", "sysprep\n", false);
        p.Write("elements/from-disk/element-provides", "operating-system\n", false);
        p.Write("elements/from-disk/root.d/10-from-disk", """
            #!/bin/bash
            set -eu
            "$TMP_HOOKS_PATH/bin/extract-image" busybox.qcow2 busybox.tgz http://unused.invalid/busybox.qcow2 "$DIB_LOCAL_IMAGE"
            """);

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        Read(tree, "etc/marker").ShouldBe("from-the-disk\n");
        File.Exists(Path.Combine(tree, "bin/busybox")).ShouldBeTrue();
        File.Exists(Path.Combine(tree, "boot/efi/EFI/BOOT/BOOTX64.EFI")).ShouldBeTrue("the ESP's files are under /boot/efi");
        File.Exists(p.Combine("cache", "busybox.tgz")).ShouldBeTrue();
        ImageProject.Sh("losetup -a").ShouldNotContain(p.Dir);
        p.MountsUnderProject().ShouldBeEmpty();
    }
}

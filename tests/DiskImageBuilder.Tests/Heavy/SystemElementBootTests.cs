using System.Text.RegularExpressions;
using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>DIB's system elements in a booted Debian cloud image (qemu TCG, one build, two boots).</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class SystemElementBootTests(CloudImageFixture image) : IClassFixture<CloudImageFixture>
{
    private static void ShouldHaveBootedCleanly(BootResult boot)
    {
        boot.LoginPrompt.ShouldBeTrue($"no login prompt:\n{boot.Console}");
        boot.Report.ShouldNotBeNull($"no boot report:\n{boot.Console}");
        boot.Report.ShouldContain("state=running", Case.Sensitive, boot.Console);
        boot.Report.ShouldContain("failed=none", Case.Sensitive, boot.Console);
    }

    private static string Answer(CopyBoot boot, string command) =>
        boot.Answers.TryGetValue(command, out var answer) ? answer : throw new ShouldAssertException($"'{command}' was not answered:\n{boot.Boot.Console}");

    /// <summary>The first whole number in a command's output (the console may interleave kernel messages).</summary>
    private static long Number(string text) => long.Parse(Regex.Match(text, @"(?m)^\d+$").Value, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Grown_disk_root_fills_it_every_NIC_gets_DHCP_and_the_dev_user_logs_in_on_the_serial_console()
    {
        var boot = image.Unseeded;
        ShouldHaveBootedCleanly(boot.Boot);

        // devuser: password login on the serial console, its shell, passwordless sudo.
        Answer(boot, "id -un").ShouldContain(CloudImageFixture.DevUser);
        Answer(boot, "getent passwd dev").ShouldContain(":/home/dev:/bin/bash");
        Answer(boot, "sudo -n id -u").ShouldContain("0");

        // growroot: the 3 GiB disk was grown from the image's size; / fills nearly all of it.
        var disk = Number(Answer(boot, "lsblk -bdno SIZE /dev/vda"));
        disk.ShouldBe(CloudImageFixture.GrownDiskBytes);
        var root = Number(Answer(boot, "findmnt -bno SIZE /"));
        root.ShouldBeGreaterThan(disk * 9 / 10, boot.Boot.Console);

        // dhcp-all-interfaces configured the second NIC (cloud-init's fallback takes only the first);
        // both have addresses from their networks' DHCP servers.
        Answer(boot, "systemctl is-active growroot.service ssh-keygen.service dhcp-interface@ens4.service")
            .Split('\n', StringSplitOptions.TrimEntries).Count(l => l == "active").ShouldBe(3, boot.Boot.Console);
        Answer(boot, "cat /etc/network/interfaces").ShouldContain("iface ens4 inet dhcp");
        var addresses = Answer(boot, "ip -4 -o addr show");
        addresses.ShouldContain("inet 10.0.2.15/24");
        addresses.ShouldContain("inet 10.0.3.15/24");
    }

    [Fact]
    public void Each_copy_makes_its_own_SSH_host_keys_at_boot()
    {
        var first = Answer(image.Unseeded, "cat /etc/ssh/ssh_host_ed25519_key.pub");
        var second = image.Seeded.Answers["seeded"];
        first.ShouldStartWith("ssh-ed25519 ");
        var secondKey = Regex.Match(second, "hostkey=(ssh-ed25519 \\S+)").Groups[1].Value;
        secondKey.ShouldStartWith("ssh-ed25519 ", Case.Sensitive, second);
        first.ShouldNotContain(secondKey["ssh-ed25519 ".Length..]);
    }

    [Fact]
    public void SSH_host_keys_are_made_after_the_login_prompt_is_allowed_and_before_the_SSH_server_and_cloud_config_start()
    {
        var seeded = image.Seeded.Answers["seeded"];
        long At(string name)
        {
            var match = Regex.Match(seeded, $@"(?m)^{name}=(\d+)$");
            match.Success.ShouldBeTrue($"no {name}= in:\n{seeded}");
            return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        // The keys (seconds of CPU under TCG) do not hold back the console's login prompt...
        At("keygen").ShouldBeGreaterThanOrEqualTo(At("sessions"), seeded);
        // ...the SSH server never starts without them, and cloud-init's config stage, which
        // nothing waits for, does not share the CPU with them.
        At("sshd").ShouldBeGreaterThanOrEqualTo(At("keys"), seeded);
        At("config").ShouldBeGreaterThanOrEqualTo(At("keys"), seeded);
    }

    [Fact]
    public void NoCloud_seed_lets_its_user_in_over_SSH_with_sudo_and_the_system_ends_running()
    {
        var boot = image.Seeded;
        ShouldHaveBootedCleanly(boot.Boot);
        var seeded = boot.Answers["seeded"];
        seeded.ShouldContain($"hostname={CloudImageFixture.SeededHostname}");
        // sudo works, and resolves the seeded hostname (no "unable to resolve host" on stderr).
        seeded.ShouldContain("sudo=0\n");
        seeded.ShouldContain("state=running");
        seeded.ShouldContain("failed=\n");
        // devuser's authorized keys: the dev user takes the same key.
        boot.Answers["dev"].ShouldContain($"user={CloudImageFixture.DevUser}");
    }
}

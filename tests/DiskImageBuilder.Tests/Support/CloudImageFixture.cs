using System.Text.RegularExpressions;
using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// One Debian cloud image with DIB's system elements (growroot, dhcp-all-interfaces, devuser,
/// runtime-ssh-host-keys, cloud-init-nocloud), built once for every test of the class, and two
/// copies of it on disks grown with qemu-img resize, each booted once: the first without a
/// seed (driven on the serial console), the second with a real NoCloud seed (driven over SSH).
/// </summary>
public sealed class CloudImageFixture : IDisposable
{
    public const string DevUser = "dev";
    public const string DevPassword = "dib-dev-Pa55";
    public const string SeededUser = "cloudy";
    public const string SeededHostname = "seeded-host";
    public const long GrownDiskBytes = 3L << 30;

    private static readonly TimeSpan SessionLimit = TimeSpan.FromSeconds(120);

    // cloud-init's four stages each start Python: under TCG on a busy 2-core host the boot to
    // "running" has taken over 5 minutes (about 2 when idle).
    private static readonly TimeSpan BootLimit = TimeSpan.FromSeconds(600);
    private readonly TempDir _work = new();
    private readonly Lazy<CopyBoot> _unseeded;
    private readonly Lazy<CopyBoot> _seeded;

    public CloudImageFixture()
    {
        ImageProject.Sh($"ssh-keygen -q -t ed25519 -N '' -C dib-test -f '{KeyFile}'");
        Project = new ImageProject($"""
              <PropertyGroup>
                <ElementsPath>{Repo.TestElements}</ElementsPath>
                <ImageFormat>qcow2</ImageFormat>
              </PropertyGroup>
              <ItemGroup>
                <Element Include="debian" />
                <Element Include="vm" />
                <Element Include="growroot" />
                <Element Include="dhcp-all-interfaces" />
                <Element Include="devuser" />
                <Element Include="runtime-ssh-host-keys" />
                <Element Include="cloud-init-nocloud" />
                <Element Include="boot-report" />
              </ItemGroup>
            """, name: "cloud");
        Project.Environment["DIB_DEV_USER_USERNAME"] = DevUser;
        Project.Environment["DIB_DEV_USER_PASSWORD"] = DevPassword;
        Project.Environment["DIB_DEV_USER_SHELL"] = "/bin/bash";
        Project.Environment["DIB_DEV_USER_PWDLESS_SUDO"] = "yes";
        Project.Environment["DIB_DEV_USER_AUTHORIZED_KEYS"] = KeyFile + ".pub";
        Build = Project.Build();
        _unseeded = new(() => BootUnseeded(Copy("unseeded")));
        _seeded = new(() => BootSeeded(Copy("seeded")));
    }

    public ImageProject Project { get; }

    public BuildRun Build { get; }

    public string KeyFile => _work.Combine("id_ed25519");

    public string PublicKey => File.ReadAllText(KeyFile + ".pub").Trim();

    public CopyBoot Unseeded => _unseeded.Value;

    public CopyBoot Seeded => _seeded.Value;

    /// <summary>A copy of the image (an overlay on it) whose disk qemu-img resize grew.</summary>
    private string Copy(string name)
    {
        Build.Succeeded.ShouldBeTrue(Build.Output);
        var copy = _work.Combine(name + ".qcow2");
        ImageProject.Sh($"qemu-img create -q -f qcow2 -F qcow2 -b '{Project.OutputFile("qcow2")}' '{copy}'");
        ImageProject.Sh($"qemu-img resize -q '{copy}' {GrownDiskBytes}");
        return copy;
    }

    /// <summary>No seed: only the image's own empty NoCloud seed. Logs in as the dev user on the serial console.</summary>
    private CopyBoot BootUnseeded(string disk)
    {
        var socket = _work.Combine("serial.sock");
        var answers = new Dictionary<string, string>();
        var boot = BootTests.Boot(new BootOptions(disk, BootOptions.SeaBios) { SerialSocket = socket, ExtraNics = 1 }, () =>
        {
            using var console = new SerialConsole(socket);
            console.Login(DevUser, DevPassword, SessionLimit);
            string Ask(string command) => answers[command] = console.Run(command, SessionLimit);
            Ask("id -un");
            Ask("getent passwd dev");
            Ask("sudo -n id -u");
            Ask("findmnt -bno SIZE /");
            Ask("lsblk -bdno SIZE /dev/vda");
            Ask("systemctl is-active growroot.service ssh-keygen.service dhcp-interface@ens4.service");
            Ask("ip -4 -o addr show");
            Ask("cat /etc/network/interfaces");
            Ask("cat /etc/ssh/ssh_host_ed25519_key.pub");
        }, BootLimit);
        return new CopyBoot(boot, answers);
    }

    /// <summary>A NoCloud seed made with cloud-localds: a user with the test's key and sudo, and a hostname.</summary>
    private CopyBoot BootSeeded(string disk)
    {
        var userData = _work.Write("seed/user-data", $"""
            #cloud-config
            users:
              - name: {SeededUser}
                shell: /bin/bash
                sudo: ALL=(ALL) NOPASSWD:ALL
                ssh_authorized_keys:
                  - {PublicKey}
            """);
        var metaData = _work.Write("seed/meta-data", $"instance-id: iid-dib-test-1\nlocal-hostname: {SeededHostname}\n");
        var seed = _work.Combine("seed.iso");
        ImageProject.Sh($"cloud-localds '{seed}' '{userData}' '{metaData}'");
        var port = BootTests.FreePort();
        var answers = new Dictionary<string, string>();
        var boot = BootTests.Boot(new BootOptions(disk, BootOptions.SeaBios) { ExtraDisks = [seed], PortForwards = [(port, 22)] }, () =>
        {
            answers["seeded"] = Ssh(port, SeededUser, """
                echo "hostname=$(hostname)"
                echo "sudo=$(sudo -n id -u 2>&1)"
                echo "state=$(systemctl is-system-running --wait)"
                echo "failed=$(systemctl list-units --state=failed --no-legend --plain | awk '{print $1}' | paste -sd, -)"
                echo "hostkey=$(cat /etc/ssh/ssh_host_ed25519_key.pub)"
                at() { systemctl show -p "$1" --value "$2"; }
                echo "sessions=$(at ActiveEnterTimestampMonotonic systemd-user-sessions.service)"
                echo "keygen=$(at InactiveExitTimestampMonotonic ssh-keygen.service)"
                echo "keys=$(at ActiveEnterTimestampMonotonic ssh-keygen.service)"
                echo "sshd=$(at InactiveExitTimestampMonotonic ssh.service)"
                echo "config=$(at InactiveExitTimestampMonotonic cloud-config.service)"
                """);
            answers["dev"] = Ssh(port, DevUser, "echo \"user=$(id -un)\"");
        }, BootLimit);
        return new CopyBoot(boot, answers);
    }

    /// <summary>Runs a script over SSH with the test's key (retrying while sshd is not up yet); returns its output.</summary>
    private string Ssh(int port, string user, string script)
    {
        var deadline = DateTime.UtcNow + SessionLimit;
        while (true)
        {
            var run = ProcessRunner.Run(
                new ProcessSpec("ssh", [
                    "-i", KeyFile, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                    "-o", "ConnectTimeout=30", "-o", "LogLevel=ERROR", $"{user}@127.0.0.1", script,
                ]) { TailLines = 200 },
                null,
                CancellationToken.None);
            if (run.ExitCode == 0)
            {
                return run.TailText;
            }

            if (DateTime.UtcNow > deadline)
            {
                return $"ssh {user}@127.0.0.1:{port} failed ({run.ExitCode}): {run.TailText}";
            }

            Thread.Sleep(5000);
        }
    }

    public void Dispose()
    {
        Project.Dispose();
        _work.Dispose();
    }
}

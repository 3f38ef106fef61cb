using DiskImageBuilder.BlockDevice;
using DiskImageBuilder.Boot;
using DiskImageBuilder.Elements;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>Real Debian VM images booted under qemu (TCG) with SeaBIOS and OVMF.</summary>
[Collection("Heavy")]
[Trait(Tier.Name, Tier.Heavy)]
public sealed class BootTests
{
    // Every image here has cloud-init, whose stages each start Python: with the arm64 boot running
    // beside the Heavy tier, the debian-vm sample once needed just over 300 s for its login prompt
    // and boot report (2 min when the host is idle). The same limit as CloudImageFixture's.
    private static readonly TimeSpan LoginLimit = TimeSpan.FromSeconds(600);

    /// <summary>
    /// Boots an image until the login prompt and the boot-report line appeared (or the limit passed),
    /// then runs <paramref name="whileUp"/> (if any, and booted) before stopping the VM.
    /// </summary>
    public static BootResult Boot(string image, string firmware, IReadOnlyList<(int Host, int Guest)>? portForwards = null, Action? whileUp = null) =>
        Boot(new BootOptions(image, firmware) { PortForwards = portForwards ?? [] }, whileUp);

    /// <summary>As above, with every option of the VM and a limit of its own; the serial log is the test's.</summary>
    public static BootResult Boot(BootOptions options, Action? whileUp = null, TimeSpan? limit = null)
    {
        var bootLimit = limit ?? LoginLimit;
        using var scratch = new TempDir();
        var serial = scratch.Combine("serial.log");
        var spec = QemuBoot.Command(options with { SerialLog = serial }, scratch.Path);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(bootLimit);
        var vm = Task.Run(() => ProcessRunner.Run(spec, null, cts.Token));
        string console = string.Empty;
        string? report = null;
        var login = false;
        while (!vm.IsCompleted && !(login && report is not null))
        {
            Thread.Sleep(500);
            console = File.Exists(serial) ? File.ReadAllText(serial) : string.Empty;
            login = console.Contains("login:", StringComparison.Ordinal);
            var at = console.IndexOf("DIB-BOOT-REPORT", StringComparison.Ordinal);
            report = at < 0 || console.IndexOf('\n', at) < 0 ? null : console[at..console.IndexOf('\n', at)].Trim();
        }

        var elapsed = clock.Elapsed;
        if (login && !vm.IsCompleted && whileUp is not null)
        {
            // The boot's limit is spent; what the caller does gets its own.
            cts.CancelAfter(bootLimit);
            try
            {
                whileUp();
            }
            finally
            {
                console = File.ReadAllText(serial);
            }
        }

        cts.Cancel();
        try
        {
            vm.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException e) when (e.InnerException is OperationCanceledException)
        {
            // We stop the VM once we have what we came for (or the limit passed).
        }

        return new BootResult(login, report, elapsed, console);
    }

    internal static void ShouldHaveBootedCleanly(BootResult boot, string label = "cloudimg-rootfs", TimeSpan? limit = null)
    {
        var loginLimit = limit ?? LoginLimit;
        boot.LoginPrompt.ShouldBeTrue($"no login prompt within {loginLimit.TotalSeconds} s:\n{boot.Console}");
        boot.Elapsed.ShouldBeLessThan(loginLimit);
        boot.Report.ShouldNotBeNull($"no boot report:\n{boot.Console}");
        boot.Report.ShouldContain($"label={label} ", Case.Sensitive, boot.Console);
        boot.Report.ShouldContain("failed=none", Case.Sensitive, boot.Console);
        boot.Report.ShouldContain("state=running", Case.Sensitive, boot.Console);
    }

    [Fact]
    public void Debian_vm_sample_boots_with_SeaBIOS_to_a_login_prompt()
    {
        using var sample = BuildSampleWithBootReport("debian-vm");
        var image = sample.Output("qcow2");
        ImageProject.Sh($"qemu-img check '{image}'").ShouldContain("No errors were found");
        var boot = Boot(image, BootOptions.SeaBios);
        ShouldHaveBootedCleanly(boot);
        boot.Report!.ShouldContain("root=/dev/vda1");
        // The SDK's unit files keep their checkout's 0644 through NuGet (which extracts every file 0744).
        boot.Console.ShouldNotContain("is marked executable", Case.Sensitive, boot.Console);
        HostFiles.MountsUnder(sample.Dir).ShouldBeEmpty();
    }

    [Fact]
    public void Web_vm_sample_serves_its_app_on_a_forwarded_port()
    {
        using var sample = BuildSampleWithBootReport("web-vm");
        var port = FreePort();
        string? body = null;
        var boot = Boot(sample.Output("qcow2"), BootOptions.SeaBios, [(port, 8080)], () => body = GetWithRetry($"http://127.0.0.1:{port}/", TimeSpan.FromSeconds(120)));
        ShouldHaveBootedCleanly(boot);
        body.ShouldBe("Hello from DiskImageBuilder web-vm", boot.Console);
    }

    /// <summary>A sample built through the packed SDK, with the boot-report element added the MSBuild way.</summary>
    private static PackedSample BuildSampleWithBootReport(string name)
    {
        var sample = new PackedSample(
            name,
            $"<PropertyGroup><ElementsPath>{Repo.TestElements}</ElementsPath></PropertyGroup>",
            """<ItemGroup><Element Include="boot-report" /></ItemGroup>""");
        var run = sample.Build();
        run.Succeeded.ShouldBeTrue(run.Output);
        return sample;
    }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The body of the first successful GET; the service may still be starting after the login prompt.</summary>
    private static string? GetWithRetry(string url, TimeSpan limit)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            try
            {
                return http.GetStringAsync(new Uri(url)).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                if (DateTime.UtcNow > deadline)
                {
                    return null;
                }

                Thread.Sleep(2000);
            }
        }
    }

    [Fact]
    public void Block_device_efi_xfs_image_boots_with_OVMF_and_with_SeaBIOS_and_from_its_baremetal_kernel_and_initrd()
    {
        // block-device-efi, as in DIB, asks for the layout (GPT, ESP and BIOS boot partition: BootMode hybrid).
        using var p = new ImageProject($"""
              <PropertyGroup>
                <ElementsPath>{Repo.TestElements}</ElementsPath>
                <ImageFormat>qcow2</ImageFormat>
                <RootFileSystem>xfs</RootFileSystem>
              </PropertyGroup>
              <ItemGroup>
                <Element Include="debian" />
                <Element Include="vm" />
                <Element Include="block-device-efi" />
                <Element Include="boot-report" />
                <Element Include="baremetal" />
              </ItemGroup>
            """, name: "hybrid");

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var uefi = Boot(p.OutputFile("qcow2"), BootOptions.Ovmf);
        ShouldHaveBootedCleanly(uefi, "img-rootfs");
        uefi.Report!.ShouldContain("root=/dev/vda3");
        var bios = Boot(p.OutputFile("qcow2"), BootOptions.SeaBios);
        ShouldHaveBootedCleanly(bios, "img-rootfs");

        // baremetal: the kernel and initrd beside the image boot its root without GRUB, as Ironic boots a partition image.
        var kernel = Boot(new BootOptions(p.OutputFile("qcow2"), BootOptions.SeaBios)
        {
            Kernel = p.OutputFile("vmlinuz"),
            Initrd = p.OutputFile("initrd"),
            KernelArgs = "root=LABEL=img-rootfs ro console=ttyS0 dib-baremetal=1",
        });
        ShouldHaveBootedCleanly(kernel, "img-rootfs");
        kernel.Console.ShouldContain("dib-baremetal=1", customMessage: "the kernel ran with the command line we gave, not GRUB's");
        p.Verb("clean").Succeeded.ShouldBeTrue();
        File.Exists(p.OutputFile("vmlinuz")).ShouldBeFalse("the kernel beside the image is an output of the build");
    }
}

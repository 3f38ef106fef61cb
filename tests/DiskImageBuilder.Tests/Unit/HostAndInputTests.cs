using DiskImageBuilder.Hooks;
using DiskImageBuilder.Host;
using DiskImageBuilder.Output;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

[Trait(Tier.Name, Tier.Unit)]
public sealed class HostAndInputTests
{
    [Fact]
    public void Missing_host_tools_are_one_error_listing_the_packages()
    {
        var d = Should.Throw<DibException>(() => HostTools.Check(
            [new HostTool("sh", "dash"), new HostTool("no-such-tool-a", "pkg-a"), new HostTool("no-such-tool-b", "pkg-b")])).Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0031");
        d.Message.ShouldContain("no-such-tool-a, no-such-tool-b");
        d.Message.ShouldContain("apt-get install -y pkg-a pkg-b");
        d.Message.ShouldNotContain("dash");
    }

    [Fact]
    public void The_tree_is_built_in_RAM_only_with_twice_DIB_MIN_TMPFS_available_and_a_bad_value_is_DIB0021()
    {
        var available = Memory.AvailableBytes().ShouldNotBeNull();
        var gib = available >> 30;
        Memory.TreeInMemory(noTmpfs: false, (gib / 2) + 1).ShouldBeFalse("more than half of what is available");
        Memory.TreeInMemory(noTmpfs: true, 1).ShouldBeFalse();
        if (gib >= 2)
        {
            Memory.TreeInMemory(noTmpfs: false, gib / 2).ShouldBe(UserNamespace.Current is null);
        }

        ImageBuilder.MinimumTmpfsGib(new Dictionary<string, string>()).ShouldBe(2);
        ImageBuilder.MinimumTmpfsGib(new Dictionary<string, string> { ["DIB_MIN_TMPFS"] = "6" }).ShouldBe(6);
        var d = Should.Throw<DibException>(() => ImageBuilder.MinimumTmpfsGib(new Dictionary<string, string> { ["DIB_MIN_TMPFS"] = "lots" }))
            .Diagnostics.ShouldHaveSingleItem();
        d.Code.ShouldBe("DIB0021");
        d.Message.ShouldContain("DIB_MIN_TMPFS");
    }

    [Fact]
    public void Elements_declare_host_tools()
    {
        using var dir = new TempDir();
        dir.Write("os/host-tools", "mmdebstrap mmdebstrap # bootstrap\n\nqemu-img qemu-utils\n", false);
        Elements.Element.Load("os", dir.Combine("os")).HostTools()
            .ShouldBe([new HostTool("mmdebstrap", "mmdebstrap"), new HostTool("qemu-img", "qemu-utils")]);
    }

    [Fact]
    public void A_rootless_build_takes_the_users_first_range_of_subordinate_ids_big_enough_by_name_or_by_id()
    {
        string[] subuid = ["# comment", "alice:100000:65536", "bob:200000:1000", "bob:300000:65536", "1002:400000:70000", "carol:x:65536"];
        UserNamespace.SubordinateRange(subuid, "alice", 1001).ShouldBe(100000);
        UserNamespace.SubordinateRange(subuid, "bob", 1005).ShouldBe(300000, "a range too small for nobody (65534) is passed over");
        UserNamespace.SubordinateRange(subuid, "dave", 1002).ShouldBe(400000, "newuidmap also matches the user's ID");
        UserNamespace.SubordinateRange(subuid, "carol", 1003).ShouldBeNull();
        UserNamespace.SubordinateRange([], "alice", 1001).ShouldBeNull();
    }

    [Fact]
    public void Unknown_format_lists_the_valid_ones()
    {
        var d = Should.Throw<DibException>(() => ImageFormats.Parse(["tar;floppy"], new SourceLocation("/p.dibproj", 4))).Diagnostics[0];
        d.Code.ShouldBe("DIB0020");
        d.Message.ShouldContain("'floppy'");
        d.Message.ShouldContain("tar");
        d.Location.ShouldBe(new SourceLocation("/p.dibproj", 4));
    }

    [Fact]
    public void Formats_deduplicate_and_default_to_qcow2_as_in_DIB()
    {
        ImageFormats.Parse(["tar,TAR"], null).ShouldHaveSingleItem().Name.ShouldBe("tar");
        ImageFormats.Parse([""], null).ShouldHaveSingleItem().Name.ShouldBe("qcow2");
    }

    [Theory]
    [InlineData("x86_64", "amd64")]
    [InlineData("aarch64", "arm64")]
    [InlineData("", "amd64")]
    [InlineData("armhf", "armhf")]
    public void Architectures_normalise(string given, string expected) => Architectures.Normalize(given, null).ShouldBe(expected);

    [Fact]
    public void Unknown_architecture_is_an_error() =>
        Should.Throw<DibException>(() => Architectures.Normalize("z80", null)).Diagnostics[0].Code.ShouldBe("DIB0021");

    [Fact]
    public void DIB_variables_and_proxies_pass_through_and_explicit_values_win()
    {
        var env = ImageEnvironment.Collect(
            [new("DIB_RELEASE", "trixie"), new("HOME", "/root"), new("http_proxy", "http://p"), new("DIB_X", "1")],
            [new("DIB_X", "2"), new("MY_VAR", "v")]);
        env.ShouldBe(new Dictionary<string, string> { ["DIB_RELEASE"] = "trixie", ["http_proxy"] = "http://p", ["DIB_X"] = "2", ["MY_VAR"] = "v" }, ignoreOrder: true);
    }

    [Fact]
    public void Request_round_trips_through_json_without_source_locations()
    {
        var request = new BuildRequest
        {
            ImageName = "img",
            Elements = [new Elements.ElementRequest("debian", new SourceLocation("/p", 3))],
            OutputDirectory = "/out",
            WorkDirectory = "/work",
            Environment = new Dictionary<string, string> { ["DIB_A"] = "b" },
        };
        var json = request.ToJson();
        json.ShouldNotContain("\"Location\"");
        var back = BuildRequest.FromJson(json);
        back.Elements.ShouldHaveSingleItem().Name.ShouldBe("debian");
        back.Environment["DIB_A"].ShouldBe("b");
        back.OutputPaths().ShouldBe(["/out/img.qcow2"]);
    }

    [Fact]
    public void The_generated_request_json_is_what_reflection_writes_so_an_upgrade_rebuilds_nothing()
    {
        var request = new BuildRequest
        {
            ImageName = "img",
            Elements = [new Elements.ElementRequest("debian", new SourceLocation("/p", 3)), new Elements.ElementRequest("vm")],
            ElementsPath = ["/e1", "/e2"],
            Formats = ["qcow2", "tar"],
            DistroRelease = "trixie",
            SkipBaseElement = true,
            Packages = ["vim", "curl"],
            Environment = new Dictionary<string, string> { ["DIB_A"] = "b", ["DIB_Q"] = "\"quoted\" <&> é" },
            SecretHashes = new Dictionary<string, string> { ["DIB_TOKEN"] = "sha256:00" },
            Files = [new Content.ImageFileRequest("/src/a", "/etc/a") { Mode = "0600", Location = new SourceLocation("/p", 9) }],
            Services = [new Content.ServiceRequest("web", "/opt/web/web", "/opt/web") { Environment = ["A=1"] }],
            OutputDirectory = "/out",
            WorkDirectory = "/work",
            RamdiskElement = "ramdisk",
            Trace = true,
            BreakPoints = ["after-error"],
            ImageSize = 2L << 30,
            MaxOnlineResize = 1000,
            MkfsOptions = "-i 4096",
            QemuImgOptions = "compat=1.1",
            BootMode = "uefi",
            BlockDeviceConfig = "- local_loop: {name: image0}",
            RootFileSystem = "xfs",
            RootLabel = "root",
            DockerTarget = "img:1",
            Checksums = ["sha256"],
            NoCompression = true,
            PhaseCache = false,
            ImageCacheMaxSize = 1L << 30,
            WorkingDirectory = "/wd",
            HookImageName = "img",
            Arguments = ["-o", "img"],
            ProjectFile = "/p/img.dibproj",
            LockTimeoutSeconds = 5,
        };
        var reflection = new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true,
            DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
            TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
        };

        foreach (var r in new[] { request, new BuildRequest { ImageName = "img", Elements = [], OutputDirectory = "/out", WorkDirectory = "/work" } })
        {
            r.ToJson().ShouldBe(System.Text.Json.JsonSerializer.Serialize(r, reflection));
            BuildRequest.FromJson(r.ToJson()).ToJson().ShouldBe(r.ToJson());
        }
    }

    [Fact]
    public void A_request_file_keeps_hashes_of_secret_looking_variables_and_the_build_takes_the_values_again_or_fails_with_DIB0047()
    {
        var request = new BuildRequest
        {
            ImageName = "img",
            Elements = [],
            OutputDirectory = "/out",
            WorkDirectory = "/work",
            Environment = new Dictionary<string, string> { ["DIB_A"] = "b", ["DIB_DEV_USER_PASSWORD"] = "hunter2", ["DIB_API_token"] = "t0k", ["DIB_SSH_KEY"] = "k" },
        };

        var json = request.WithoutSecrets().ToJson();

        foreach (var value in new[] { "hunter2", "t0k", "\"k\"" })
        {
            json.ShouldNotContain(value);
        }

        var back = BuildRequest.FromJson(json);
        back.Environment.Keys.ShouldBe(["DIB_A"]);
        back.SecretHashes.Keys.ShouldBe(["DIB_API_token", "DIB_DEV_USER_PASSWORD", "DIB_SSH_KEY"], ignoreOrder: true);
        request.WithoutSecrets().ToJson().ShouldBe(json, "the same values give the same file (no rebuild)");
        (request with { Environment = new Dictionary<string, string>(request.Environment) { ["DIB_DEV_USER_PASSWORD"] = "other" } })
            .WithoutSecrets().ToJson().ShouldNotBe(json, "another password changes the file (rebuild)");

        var restored = back.WithSecrets(request.Environment);
        restored.Environment.ShouldBe(request.Environment, ignoreOrder: true);
        restored.SecretHashes.ShouldBeEmpty();

        var changed = Should.Throw<DibException>(() => back.WithSecrets(new Dictionary<string, string>(request.Environment) { ["DIB_SSH_KEY"] = "x" }));
        changed.Diagnostics[0].Code.ShouldBe("DIB0047");
        changed.Message.ShouldContain("DIB_SSH_KEY has another value");
        Should.Throw<DibException>(() => back.WithSecrets(new Dictionary<string, string>())).Diagnostics[0].Code.ShouldBe("DIB0047");
    }
}

using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>
/// cache-url against a real HTTP server (busybox httpd on 127.0.0.1), source-repositories from a
/// local git repository and a tarball made here (then offline from the cache), and the manifests
/// element, in builds of the offline busybox tree. Needs root.
/// </summary>
[Trait(Tier.Name, Tier.Build)]
public sealed class SourcesAndManifestsTests
{
    private static string CacheUrl => Path.Combine(Repo.Elements, "cache-url", "bin", "cache-url");

    private static (int Code, string Output) RunCacheUrl(string url, string dest, string offline = "")
    {
        var r = ProcessRunner.Run(
            new ProcessSpec("bash", [CacheUrl, url, dest])
            {
                ClearEnvironment = true,
                Environment = new Dictionary<string, string> { ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin", ["DIB_OFFLINE"] = offline },
                TailLines = 100,
            },
            null,
            CancellationToken.None);
        return (r.ExitCode, r.TailText);
    }

    [Fact]
    public void Cache_url_downloads_once_revalidates_reports_404_and_works_offline_from_the_cache()
    {
        using var dir = new TempDir();
        var www = Directory.CreateDirectory(dir.Combine("www")).FullName;
        File.WriteAllText(Path.Combine(www, "file.txt"), "first\n");
        File.SetLastWriteTimeUtc(Path.Combine(www, "file.txt"), DateTime.UtcNow.AddHours(-2));
        var port = FreePort();
        using var server = Process.Start("busybox", ["httpd", "-f", "-p", $"127.0.0.1:{port}", "-h", www])!;
        try
        {
            WaitForPort(port);
            var url = $"http://127.0.0.1:{port}/file.txt";
            var dest = dir.Combine("cache", "sub", "file.txt");

            var first = RunCacheUrl(url, dest);
            first.Code.ShouldBe(0, first.Output);
            first.Output.ShouldContain("for the first time");
            File.ReadAllText(dest).ShouldBe("first\n");

            var again = RunCacheUrl(url, dest);
            again.Code.ShouldBe(0, again.Output);
            again.Output.ShouldContain("has not changed");

            File.WriteAllText(Path.Combine(www, "file.txt"), "second\n");
            File.SetLastWriteTimeUtc(Path.Combine(www, "file.txt"), DateTime.UtcNow.AddHours(1));
            var newer = RunCacheUrl(url, dest);
            newer.Code.ShouldBe(0, newer.Output);
            newer.Output.ShouldContain("newer");
            File.ReadAllText(dest).ShouldBe("second\n");

            var missing = RunCacheUrl($"http://127.0.0.1:{port}/nothing-here", dir.Combine("cache", "nothing"));
            missing.Code.ShouldBe(44, missing.Output);
            File.Exists(dir.Combine("cache", "nothing")).ShouldBeFalse();
            Directory.EnumerateFiles(dir.Combine("cache"), ".cache-url.*", SearchOption.AllDirectories).ShouldBeEmpty("no temporary files left");
        }
        finally
        {
            server.Kill();
            server.WaitForExit();
        }

        // The server is gone: offline uses the cached copy, and fails for what is not cached.
        var offline = RunCacheUrl("http://127.0.0.1:1/file.txt", dir.Combine("cache", "sub", "file.txt"), offline: "1");
        offline.Code.ShouldBe(0, offline.Output);
        offline.Output.ShouldContain("offline (DIB_OFFLINE): using the cached");
        var notCached = RunCacheUrl("http://127.0.0.1:1/other.txt", dir.Combine("cache", "other.txt"), offline: "1");
        notCached.Code.ShouldBe(1);
        notCached.Output.ShouldContain("is not in the cache");
    }

    [Fact]
    public void Source_repositories_fetch_git_tar_and_file_sources_with_overrides_then_build_offline_from_the_cache()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="sources" />""");
        var origin = p.Combine("origin");
        Git(p.Dir, "init", "-q", "-b", "main", origin);
        File.WriteAllText(Path.Combine(origin, "version"), "one\n");
        Git(origin, "add", "version");
        Git(origin, "commit", "-q", "-m", "one");
        Git(origin, "tag", "v1");
        File.WriteAllText(Path.Combine(origin, "version"), "two\n");
        Git(origin, "commit", "-q", "-am", "two");
        var v1 = Git(origin, "rev-parse", "v1").Trim();
        var main = Git(origin, "rev-parse", "main").Trim();

        // A tarball whose top folder carries a version, as released tarballs do.
        p.Write("tarball-src/tool-1.2/bin/tool", "#!/bin/sh\necho tool\n");
        p.Write("tarball-src/tool-1.2/README", "tool readme\n", false);
        ImageProject.Sh($"tar -C '{p.Combine("tarball-src")}' -czf '{p.Combine("tool-1.2.tar.gz")}' tool-1.2");
        p.Write("single.conf", "setting=1\n", false);

        p.Write("elements/sources/element-deps", "source-repositories\n", false);
        p.Write("elements/sources/source-repository-app", $"app git /opt/app file://{origin} main\n", false);
        p.Write("elements/sources/source-repository-pinned", $"# a comment, then a pinned copy\n\npinned git /opt/pinned file://{origin}\n", false);
        p.Write("elements/sources/source-repository-tool", $"tool tar /opt/tool file://{p.Combine("tool-1.2.tar.gz")} tool-1.2\n", false);
        p.Write("elements/sources/source-repository-conf", $"conf file /etc/single.conf {p.Combine("single.conf")}\n", false);
        p.Environment["DIB_REPOREF_pinned"] = "v1";

        var online = p.Build();

        online.Succeeded.ShouldBeTrue(online.Output);
        var tree = p.Extract();
        File.ReadAllText(Path.Combine(tree, "opt/app/version")).ShouldBe("two\n");
        Git(Path.Combine(tree, "opt/app"), "rev-parse", "HEAD").Trim().ShouldBe(main);
        File.ReadAllText(Path.Combine(tree, "opt/pinned/version")).ShouldBe("one\n", "DIB_REPOREF_pinned=v1");
        File.ReadAllText(Path.Combine(tree, "opt/tool/bin/tool")).ShouldContain("echo tool");
        File.ReadAllText(Path.Combine(tree, "opt/tool/README")).ShouldBe("tool readme\n");
        File.ReadAllText(Path.Combine(tree, "etc/single.conf")).ShouldBe("setting=1\n");
        File.ReadAllLines(Path.Combine(tree, "etc/dib-source-repositories")).ShouldBe(["/opt/app", "/etc/single.conf", "/opt/pinned", "/opt/tool"]);
        File.ReadAllLines(Path.Combine(tree, "etc/dib-manifests/dib-manifest-git-image")).ShouldBe([
            $"app git /opt/app file://{origin} {main}", $"pinned git /opt/pinned file://{origin} {v1}"]);
        Directory.EnumerateFileSystemEntries(p.Combine("cache", "source-repositories"), "app_*").ShouldHaveSingleItem();
        Directory.Exists(Path.Combine(tree, "tmp")).ShouldBeTrue();
        Directory.EnumerateFileSystemEntries(Path.Combine(tree, "tmp")).ShouldBeEmpty("the unpacked tarball is removed");

        // Every source gone: an offline build takes all of them from the cache.
        Directory.Delete(origin, recursive: true);
        File.Delete(p.Combine("tool-1.2.tar.gz"));
        File.Delete(p.Combine("single.conf"));
        p.Environment["DIB_OFFLINE"] = "1";
        var offline = p.Build("-p:DisablePhaseCache=true");

        offline.Succeeded.ShouldBeTrue(offline.Output);
        tree = p.Extract();
        File.ReadAllText(Path.Combine(tree, "opt/app/version")).ShouldBe("two\n");
        File.ReadAllText(Path.Combine(tree, "opt/pinned/version")).ShouldBe("one\n");
        File.ReadAllText(Path.Combine(tree, "opt/tool/README")).ShouldBe("tool readme\n");
        File.ReadAllText(Path.Combine(tree, "etc/single.conf")).ShouldBe("setting=1\n");

        // Offline, a ref the cache never saw cannot be had.
        p.Environment["DIB_REPOREF_app"] = "no-such-branch";
        var missing = p.Build("-p:DisablePhaseCache=true");

        missing.Succeeded.ShouldBeFalse();
        missing.Errors.ShouldHaveSingleItem().Text.ShouldContain("has no no-such-branch", Case.Sensitive, missing.Output);
    }

    [Fact]
    public void A_source_repository_line_that_does_not_parse_names_the_file_and_line()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="sources" />""");
        p.Write("elements/sources/element-deps", "source-repositories\n", false);
        p.Write("elements/sources/source-repository-bad", "# fine\nbad svn /opt/bad http://example.invalid/x\n", false);

        var run = p.Build();

        run.Succeeded.ShouldBeFalse();
        run.Errors.ShouldHaveSingleItem().Text.ShouldContain("source-repository-bad line 2: 'bad svn /opt/bad http://example.invalid/x' is not", Case.Sensitive, run.Output);
    }

    [Fact]
    public void Manifests_are_root_only_in_the_image_and_beside_it_and_leave_out_secrets_unless_asked()
    {
        using var p = ImageProject.Busybox(elements: """<Element Include="element-manifest" />""");
        // DIB_MANIFEST_SAVE_DIR's default: $IMAGE_NAME.d/, beside the image.
        var save = p.Combine("bin", "Debug", "image.d");
        p.Environment["DIB_DEV_USER_PASSWORD"] = "hunter2-password-value";
        p.Environment["DIB_API_TOKEN"] = "token-value-123";
        p.Environment["DIB_Some_Secret_Thing"] = "secret-value-456";
        p.Environment["DIB_SSH_KEY"] = "key-value-789";
        p.Environment["DIB_PLAIN_SETTING"] = "it's a \"plain\" value";

        var run = p.Build();

        run.Succeeded.ShouldBeTrue(run.Output);
        var tree = p.Extract();
        var env = Path.Combine(tree, "etc/dib-manifests/dib_environment");
        var text = File.ReadAllText(env);
        text.ShouldContain("declare -x DIB_PLAIN_SETTING=\"it's a \\\"plain\\\" value\"");
        foreach (var secret in (string[])["hunter2-password-value", "token-value-123", "secret-value-456", "key-value-789"])
        {
            text.ShouldNotContain(secret);
        }

        text.ShouldContain("# left out, their names look like secrets");
        File.ReadAllLines(Path.Combine(tree, "etc/dib-manifests/dib-element-manifest")).ShouldBe(["busybox-tree", "element-manifest", "manifests"]);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(tree, "etc/dib-manifests")))
        {
            ImageProject.Sh($"stat -c '%a %u:%g' '{file}'").Trim().ShouldBe("600 0:0", file);
        }

        // The copy beside the image: the same files, root only too.
        File.ReadAllText(Path.Combine(save, "dib-manifests", "dib_environment")).ShouldBe(text);
        ImageProject.Sh($"stat -c '%a' '{save}/dib-manifests/dib_environment'").Trim().ShouldBe("600");
        File.ReadAllLines(Path.Combine(save, "dib-manifests", "dib-element-manifest")).ShouldContain("manifests");

        // The user may ask for everything.
        p.Environment["DIB_MANIFEST_INCLUDE_SECRETS"] = "1";
        var all = p.Build();

        all.Succeeded.ShouldBeTrue(all.Output);
        File.ReadAllText(Path.Combine(p.Extract(), "etc/dib-manifests/dib_environment")).ShouldContain("declare -x DIB_DEV_USER_PASSWORD=\"hunter2-password-value\"");
    }

    private static string Git(string dir, params string[] args)
    {
        var r = ProcessRunner.Run(
            new ProcessSpec("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main", .. args]) { WorkingDirectory = dir, TailLines = 1000 },
            null,
            CancellationToken.None);
        return r.ExitCode == 0 ? r.TailText : throw new InvalidOperationException($"git {string.Join(' ', args)} failed: {r.TailText}");
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static void WaitForPort(int port)
    {
        for (var i = 0; i < 50; i++)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        throw new InvalidOperationException($"busybox httpd did not listen on port {port}");
    }
}

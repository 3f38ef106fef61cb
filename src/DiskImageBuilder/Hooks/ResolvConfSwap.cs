namespace DiskImageBuilder.Host;

/// <summary>
/// While the image's packages install, it needs a working resolv.conf; afterwards its own
/// (often a symlink to systemd-resolved's file) is put back exactly.
/// </summary>
internal sealed class ResolvConfSwap : IDisposable
{
    private readonly string _path;
    private readonly string _saved;
    private readonly bool _hadOwn;
    private readonly bool _active;

    public ResolvConfSwap(string rootTree, string hostResolvConf = "/etc/resolv.conf")
    {
        var etc = Path.Combine(rootTree, "etc");
        _path = Path.Combine(etc, "resolv.conf");
        _saved = Path.Combine(etc, ".dib-resolv.conf.orig");
        if (!Directory.Exists(etc) || !File.Exists(hostResolvConf))
        {
            return;
        }

        _hadOwn = HostFiles.LinkOrFileExists(_path);
        if (_hadOwn)
        {
            File.Move(_path, _saved, overwrite: true);
        }

        File.WriteAllBytes(_path, File.ReadAllBytes(hostResolvConf));
        _active = true;
    }

    public void Dispose()
    {
        if (!_active)
        {
            return;
        }

        if (HostFiles.LinkOrFileExists(_path))
        {
            File.Delete(_path);
        }

        if (_hadOwn)
        {
            File.Move(_saved, _path);
        }
    }
}

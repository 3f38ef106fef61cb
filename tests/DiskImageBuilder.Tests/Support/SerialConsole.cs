using System.Net.Sockets;
using System.Text;

namespace DiskImageBuilder.Tests;

/// <summary>
/// A VM's serial console over qemu's Unix socket: logs in at the getty prompt and runs shell
/// commands, reading their output between markers (the terminal echoes what is typed, so a
/// marker is printed from two words the echoed command line never shows joined).
/// </summary>
public sealed class SerialConsole : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly StringBuilder _received = new();
    private readonly Thread _reader;
    private int _marker;

    public SerialConsole(string socketPath)
    {
        _socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        _reader = new Thread(Read) { IsBackground = true, Name = "serial console" };
        _reader.Start();
    }

    /// <summary>Everything the guest sent since we connected.</summary>
    public string Received
    {
        get
        {
            lock (_received)
            {
                return _received.ToString();
            }
        }
    }

    /// <summary>Logs in at the getty prompt with a password; returns once a shell runs commands.</summary>
    public void Login(string user, string password, TimeSpan limit)
    {
        var from = Received.Length;
        Type("\r");
        WaitFor("login:", from, limit);
        from = Received.Length;
        Type(user + "\r");
        WaitFor("Password:", from, limit);
        from = Received.Length;
        Type(password + "\r");
        // login drops what was typed before the shell runs: wait for its prompt.
        WaitFor("$ ", from, limit);
        // No pager and no colours: the output is read by a program.
        Run("export PAGER=cat SYSTEMD_PAGER= SYSTEMD_COLORS=0 TERM=dumb", limit);
    }

    /// <summary>Runs a shell command line and returns what it printed (trimmed).</summary>
    public string Run(string command, TimeSpan limit)
    {
        var n = ++_marker;
        var from = Received.Length;
        Type($"printf '%s%s\\n' DIB-BEGIN- {n}; {command}; printf '%s%s\\n' DIB-END- {n}\r");
        var end = WaitFor($"DIB-END-{n}", from, limit);
        var text = Received[from..end];
        var begin = text.IndexOf($"DIB-BEGIN-{n}", StringComparison.Ordinal);
        return begin < 0 ? text : text[(begin + $"DIB-BEGIN-{n}".Length)..].Replace("\r", string.Empty, StringComparison.Ordinal).Trim();
    }

    private void Type(string text) => _socket.Send(Encoding.UTF8.GetBytes(text));

    /// <summary>Waits until <paramref name="text"/> appears after <paramref name="from"/>; returns where it starts.</summary>
    private int WaitFor(string text, int from, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var at = Received.IndexOf(text, from, StringComparison.Ordinal);
            if (at >= 0)
            {
                return at;
            }

            if (DateTime.UtcNow > deadline || !_reader.IsAlive)
            {
                throw new TimeoutException($"'{text}' did not appear on the serial console within {limit.TotalSeconds} s; it showed:\n{Received[from..]}");
            }

            Thread.Sleep(200);
        }
    }

    private void Read()
    {
        var buffer = new byte[4096];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[4096];
        try
        {
            int n;
            while ((n = _socket.Receive(buffer)) > 0)
            {
                var count = decoder.GetChars(buffer, 0, n, chars, 0);
                lock (_received)
                {
                    _received.Append(chars, 0, count);
                }
            }
        }
        catch (SocketException)
        {
            // The VM stopped.
        }
        catch (ObjectDisposedException)
        {
            // We closed the console.
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _reader.Join(TimeSpan.FromSeconds(5));
    }
}

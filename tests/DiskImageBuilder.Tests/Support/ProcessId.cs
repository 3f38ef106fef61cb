using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using DiskImageBuilder.Host;
using DiskImageBuilder.Request;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

/// <summary>A process, by PID and start time (a PID alone may be reused).</summary>
internal sealed record ProcessId(int Pid, long StartTime, string Command);

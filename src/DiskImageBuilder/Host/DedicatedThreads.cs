using System.Runtime.ExceptionServices;

namespace DiskImageBuilder.Host;

/// <summary>
/// Work side by side on threads of its own, never the thread pool's. The engine runs inside
/// MSBuild, whose pool threads may all be busy or blocked; work queued there then waits for the pool
/// to grow, and that waiting added up to half a second to a rebuild (measured: the qcow2 stage took
/// 0.4 s with a thread free at once, 0.9 s queued). Blocking work (waiting for a process) belongs on
/// a thread of its own too.
/// </summary>
internal static class DedicatedThreads
{
    /// <summary>Runs <paramref name="body"/>(0 … <paramref name="count"/> - 1) at once, the first on the calling thread; rethrows the first failure after all have ended.</summary>
    public static void ForEach(int count, Action<int> body)
    {
        Exception? failure = null;
        void Run(int i)
        {
            try
            {
                body(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref failure, e, null);
            }
        }

        var threads = new Thread[Math.Max(0, count - 1)];
        for (var i = 0; i < threads.Length; i++)
        {
            var index = i + 1;
            threads[i] = new Thread(() => Run(index)) { IsBackground = true, Name = "DiskImageBuilder worker" };
            threads[i].Start();
        }

        if (count > 0)
        {
            Run(0);
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>Starts <paramref name="work"/> on a thread of its own and returns its task.</summary>
    public static Task<T> Start<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <inheritdoc cref="Start{T}(Func{T})"/>
    public static Task Start(Action work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// Waits for work whose outcome no longer matters, on a path that is already failing: it may
    /// still be using what that path is about to close. Its own failure, if any, is dropped.
    /// </summary>
    public static void WaitOut(Task? work)
    {
        try
        {
            work?.Wait(CancellationToken.None);
        }
        catch (AggregateException)
        {
        }
    }
}

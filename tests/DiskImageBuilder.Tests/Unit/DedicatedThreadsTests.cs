using DiskImageBuilder.Host;
using Shouldly;
using Xunit;

namespace DiskImageBuilder.Tests;

[Trait(Tier.Name, Tier.Unit)]
public sealed class DedicatedThreadsTests
{
    [Fact]
    public void Every_index_runs_at_once_the_first_on_the_caller_the_others_on_threads_of_their_own()
    {
        const int Count = 4;
        var seen = new int[Count];
        var pool = new bool[Count];
        var threads = new int[Count];
        using var allStarted = new Barrier(Count);

        // The barrier only opens when all four run at the same time: one waiting for another would hang here.
        DedicatedThreads.ForEach(Count, i =>
        {
            pool[i] = Thread.CurrentThread.IsThreadPoolThread;
            threads[i] = Environment.CurrentManagedThreadId;
            allStarted.SignalAndWait(TimeSpan.FromSeconds(10)).ShouldBeTrue();
            Interlocked.Increment(ref seen[i]);
        });

        seen.ShouldAllBe(n => n == 1);
        threads[0].ShouldBe(Environment.CurrentManagedThreadId);
        pool.Skip(1).ShouldAllBe(p => !p);
        threads.Distinct().Count().ShouldBe(Count);
    }

    [Fact]
    public void A_failure_is_rethrown_after_every_index_has_ended()
    {
        var ended = 0;
        var failure = Should.Throw<InvalidOperationException>(() => DedicatedThreads.ForEach(3, i =>
        {
            Thread.Sleep(50);
            Interlocked.Increment(ref ended);
            if (i == 1)
            {
                throw new InvalidOperationException("index 1");
            }
        }));

        failure.Message.ShouldBe("index 1");
        ended.ShouldBe(3);
    }

    [Fact]
    public async Task Start_runs_blocking_work_off_the_pool()
    {
        (await DedicatedThreads.Start(() => Thread.CurrentThread.IsThreadPoolThread)).ShouldBeFalse();
    }

    [Fact]
    public void WaitOut_waits_for_work_to_end_and_drops_its_failure()
    {
        var ended = false;
        var work = DedicatedThreads.Start(() =>
        {
            Thread.Sleep(100);
            ended = true;
            throw new InvalidOperationException("no longer matters");
        });

        DedicatedThreads.WaitOut(work);

        ended.ShouldBeTrue();
        work.IsFaulted.ShouldBeTrue();
        DedicatedThreads.WaitOut(null);
    }
}

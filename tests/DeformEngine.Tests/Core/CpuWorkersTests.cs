using DeformEngine.Cpu;

namespace DeformEngine.Tests.Core;

/// <summary><see cref="CpuWorkers"/>: every task exactly once, whatever joins; nested and concurrent
/// loops complete; a helper that wakes after the caller finished a loop runs nothing of it; a task's
/// exception reaches the caller.</summary>
[TestClass]
public class CpuWorkersTests
{
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(4)]
    public void For_EveryIndexExactlyOnce(int threads)
    {
        for (int round = 0; round < 50; round++)
        {
            var hits = new int[997];
            CpuWorkers.For(hits.Length, threads, i => Interlocked.Increment(ref hits[i]));
            CollectionAssert.AreEqual(Enumerable.Repeat(1, hits.Length).ToArray(), hits, $"round {round}");
        }
    }

    [TestMethod]
    public void For_NestedLoop_RunsInlineAndCompletes()
    {
        var hits = new int[20 * 30];
        CpuWorkers.For(20, 2, outer => CpuWorkers.For(30, 2, inner => Interlocked.Increment(ref hits[outer * 30 + inner])));
        Assert.IsTrue(hits.All(h => h == 1));
    }

    [TestMethod]
    public void For_CallersOnSeveralThreads_EachCompletes()
    {
        var sums = new long[4];
        Parallel.For(0, sums.Length, caller =>
        {
            for (int round = 0; round < 20; round++)
                CpuWorkers.For(100, 2, i => Interlocked.Add(ref sums[caller], i));
        });
        Assert.IsTrue(sums.All(s => s == 20L * 99 * 100 / 2), string.Join(", ", sums));
    }

    [TestMethod]
    public void Run_HelperWakingAfterTheCallerFinished_RunsNothingOnceRunReturned()
    {
        // Helpers fall asleep during the pauses, so the caller usually finishes the empty work before one
        // wakes: the job must then be closed to it, or it would run work the caller no longer waits for.
        int rounds = 60, late = 0, helped = 0;
        for (int round = 0; round < rounds; round++)
        {
            Thread.Sleep(2);
            int returned = 0, caller = Environment.CurrentManagedThreadId;
            CpuWorkers.Run(2, () =>
            {
                if (Volatile.Read(ref returned) == 1)
                    Interlocked.Increment(ref late);
                if (Environment.CurrentManagedThreadId != caller)
                    Interlocked.Increment(ref helped);
                else
                    Thread.SpinWait(round % 3 == 0 ? 200_000 : 0);
            });
            Volatile.Write(ref returned, 1);
        }
        Thread.Sleep(50);
        Assert.AreEqual(0, Volatile.Read(ref late), $"helpers joined {helped} of {rounds} loops");
        // The team still runs loops on both threads.
        var hits = new int[1000];
        CpuWorkers.For(hits.Length, 2, i => Interlocked.Increment(ref hits[i]));
        Assert.IsTrue(hits.All(h => h == 1));
    }

    [TestMethod]
    public void For_TaskThrows_AggregateExceptionWithIt()
    {
        var exception = Assert.ThrowsExactly<AggregateException>(() =>
            CpuWorkers.For(100, 2, i =>
            {
                if (i == 37)
                    throw new InvalidOperationException("task 37");
            }));
        Assert.IsTrue(exception.InnerExceptions.Any(e => e is InvalidOperationException { Message: "task 37" }));
        // The team is usable afterwards.
        int count = 0;
        CpuWorkers.For(10, 2, _ => Interlocked.Increment(ref count));
        Assert.AreEqual(10, count);
    }

    [TestMethod]
    [DoNotParallelize]
    public void WorkerSpinTime_HelpersLookForTheNextLoopThatLongThenSleep()
    {
        var saved = EngineOptions.WorkerSpinTime;
        try
        {
            // Long spin: 30 ms after a loop every helper is still looking for the next one.
            EngineOptions.WorkerSpinTime = TimeSpan.FromMilliseconds(500);
            CpuWorkers.For(64, 2, _ => Thread.SpinWait(100));
            // A helper that slept before the loop may take a while to wake on a busy machine: wait for that first.
            var awake = System.Diagnostics.Stopwatch.StartNew();
            while (CpuWorkers.SleepingHelpers(1) > 0 && awake.ElapsedMilliseconds < 1000)
                Thread.Sleep(1);
            Thread.Sleep(30);
            Assert.AreEqual(0, CpuWorkers.SleepingHelpers(1), "a helper slept within its spin time");
            // No spin: shortly after a loop every helper sleeps, and the next loop still completes.
            EngineOptions.WorkerSpinTime = TimeSpan.Zero;
            CpuWorkers.For(64, 2, _ => Thread.SpinWait(100));
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (CpuWorkers.SleepingHelpers(1) == 0 && waited.ElapsedMilliseconds < 2000)
                Thread.Sleep(1);
            Assert.IsTrue(CpuWorkers.SleepingHelpers(1) > 0, "no helper slept with a spin time of 0");
            var hits = new int[101];
            CpuWorkers.For(hits.Length, 2, i => Interlocked.Increment(ref hits[i]));
            Assert.IsTrue(hits.All(h => h == 1));
        }
        finally
        {
            EngineOptions.WorkerSpinTime = saved;
        }
    }

    [TestMethod]
    public void WorkerSpinTime_OutOfRange_ThrowsNamingTheBounds()
    {
        var negative = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => EngineOptions.WorkerSpinTime = TimeSpan.FromMilliseconds(-1));
        Assert.Contains("between 0 and 1 second", negative.Message);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => EngineOptions.WorkerSpinTime = TimeSpan.FromSeconds(2));
    }

    [TestMethod]
    public void ThreadPlacement_MoveOff_LeavesTheProcessorAndKeepsTheAffinity()
    {
        // On a thread of its own (the test runner's threads keep their placement): where the processor is known
        // and another one is allowed, moving off the current processor lands elsewhere and leaves the thread
        // allowed on as many processors as before; elsewhere nothing moves.
        int before = -1, after = -1, allowedBefore = 0, allowedAfter = 0;
        bool moved = false, canSet = false;
        var thread = new Thread(() =>
        {
            canSet = ThreadPlacement.CanSetAffinity();
            allowedBefore = ThreadPlacement.AllowedProcessors();
            // A busy machine may move the thread back at once; three tries rule that out.
            for (int attempt = 0; attempt < 3 && (attempt == 0 || after == before); attempt++)
            {
                before = ThreadPlacement.CurrentProcessor();
                moved = ThreadPlacement.MoveOff(before);
                after = ThreadPlacement.CurrentProcessor();
            }
            allowedAfter = ThreadPlacement.AllowedProcessors();
        });
        thread.Start();
        thread.Join();
        if (before < 0 || allowedBefore < 2 || !canSet)
        {
            // Not Linux, one processor, or a sandbox that refuses affinity changes: nothing may move.
            Assert.IsFalse(moved, "nothing to move to, yet it reported a move");
            Assert.AreEqual(allowedBefore, allowedAfter, "the affinity changed");
            return;
        }
        Assert.IsTrue(moved, $"allowed on {allowedBefore} processors, it did not move off {before}");
        Assert.AreNotEqual(before, after, "still on the processor it moved off");
        Assert.AreEqual(allowedBefore, allowedAfter, "the affinity was not restored");
        Assert.IsFalse(ThreadPlacement.MoveOff(-1), "a processor of -1 cannot be left");
    }

    [TestMethod]
    public void ThreadPlacement_SteerAway_SleepingThreadWakesElsewhereAndPutsItsAffinityBack()
    {
        // A thread blocked on an event has one processor taken out of the affinity it read, by another thread, is
        // woken, and must then run elsewhere (the kernel keeps a thread within its affinity) and get it all back.
        using var ready = new ManualResetEventSlim(false);
        using var wake = new ManualResetEventSlim(false);
        var saved = new ulong[ThreadPlacement.MaskWords];
        int thread = 0, allowedBefore = 0, wokeOn = -1, allowedRestored = 0;
        bool restored = false;
        var sleeper = new Thread(() =>
        {
            if (ThreadPlacement.ReadAffinity(saved))
                thread = ThreadPlacement.CurrentThreadId();
            allowedBefore = ThreadPlacement.AllowedProcessors();
            ready.Set();
            wake.Wait(TimeSpan.FromSeconds(10));
            wokeOn = ThreadPlacement.CurrentProcessor();
            restored = ThreadPlacement.SetAffinity(saved);
            allowedRestored = ThreadPlacement.AllowedProcessors();
        });
        sleeper.Start();
        Assert.IsTrue(ready.Wait(TimeSpan.FromSeconds(10)), "the thread did not start");
        Thread.Sleep(5);
        int excluded = Math.Max(0, ThreadPlacement.CurrentProcessor());
        bool canSet = ThreadPlacement.CanSetAffinity();
        bool steered = ThreadPlacement.SteerAway(thread, excluded, saved);
        int allowedSteered = ThreadPlacement.AllowedProcessors(thread);
        bool allowsExcluded = ThreadPlacement.Allows(thread, excluded);
        wake.Set();
        sleeper.Join();
        Assert.IsFalse(ThreadPlacement.SteerAway(thread, -1, saved), "a processor of -1 cannot be steered away from");
        Assert.IsFalse(ThreadPlacement.SteerAway(0, excluded, saved), "thread 0 is no helper");
        if (thread <= 0 || allowedBefore < 2 || !canSet)
        {
            // Not Linux, one processor, or a sandbox that refuses affinity changes: nothing may change.
            Assert.IsFalse(steered, "nothing to steer to, yet it reported a change");
            return;
        }
        Assert.IsTrue(steered, $"allowed on {allowedBefore} processors, thread {thread} was not steered off {excluded}");
        Assert.AreEqual(allowedBefore - 1, allowedSteered, "the steered affinity should lack exactly one processor");
        Assert.IsFalse(allowsExcluded, $"processor {excluded} is still allowed");
        Assert.AreNotEqual(excluded, wokeOn, "the thread woke on the processor taken out of its affinity");
        Assert.IsTrue(restored, "setting the saved affinity failed");
        Assert.AreEqual(allowedBefore, allowedRestored, "the saved affinity was not the whole one");
    }

    [TestMethod]
    [DoNotParallelize]
    public void Run_SleepingHelperWoken_JoinsWithItsWholeAffinity()
    {
        // With no spin time every loop wakes a sleeping helper, steered off the caller's processor; in the loop the
        // helper must already have its own affinity back (a narrowed one would pin it to the other processors). A
        // helper that was already awake when the caller steered it runs that loop narrowed: a rare race on a busy
        // machine, so the bound is half the tasks; a helper that never restored runs every task after the first narrowed.
        var saved = EngineOptions.WorkerSpinTime;
        int allowed = ThreadPlacement.AllowedProcessors(), joined = 0, narrowed = 0, helperAllowed = 0;
        try
        {
            EngineOptions.WorkerSpinTime = TimeSpan.Zero;
            for (int round = 0; round < 20; round++)
            {
                var waited = System.Diagnostics.Stopwatch.StartNew();
                while (CpuWorkers.SleepingHelpers(1) == 0 && waited.ElapsedMilliseconds < 2000)
                    Thread.Sleep(1);
                int caller = Environment.CurrentManagedThreadId;
                var hits = new int[64];
                CpuWorkers.For(hits.Length, 2, i =>
                {
                    if (Environment.CurrentManagedThreadId != caller)
                    {
                        Interlocked.Increment(ref joined);
                        int seen = ThreadPlacement.AllowedProcessors();
                        if (seen != allowed)
                        {
                            Interlocked.Increment(ref narrowed);
                            Volatile.Write(ref helperAllowed, seen);
                        }
                    }
                    else
                        Thread.SpinWait(20_000);
                    Interlocked.Increment(ref hits[i]);
                });
                Assert.IsTrue(hits.All(h => h == 1), $"round {round}");
            }
        }
        finally
        {
            EngineOptions.WorkerSpinTime = saved;
        }
        Assert.IsTrue(narrowed * 2 <= joined,
            $"in {narrowed} of {joined} tasks the helper ran allowed on {helperAllowed} processors, not {allowed}");
    }

    [TestMethod]
    [DoNotParallelize]
    public void For_TaskThrowsWhileAnotherCallersLoopRuns_StillAggregateException()
    {
        // A loop started while another caller's loop holds the team runs on its caller alone; a task's exception
        // must reach that caller the same way as when helpers take part (it came through unwrapped before).
        using var started = new ManualResetEventSlim(false);
        using var release = new ManualResetEventSlim(false);
        var other = new Thread(() => CpuWorkers.For(2, 2, i =>
        {
            started.Set();
            release.Wait(TimeSpan.FromSeconds(10));
        }));
        other.Start();
        try
        {
            Assert.IsTrue(started.Wait(TimeSpan.FromSeconds(10)), "the other caller's loop did not start");
            var exception = Assert.ThrowsExactly<AggregateException>(() =>
                CpuWorkers.For(100, 2, i =>
                {
                    if (i == 37)
                        throw new InvalidOperationException("task 37");
                }));
            Assert.IsTrue(exception.InnerExceptions.Any(e => e is InvalidOperationException { Message: "task 37" }));
        }
        finally
        {
            release.Set();
            other.Join();
        }
    }
}

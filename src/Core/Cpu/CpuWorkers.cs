using System.Diagnostics;

namespace DeformEngine.Cpu;

/// <summary>The engine's own team of worker threads for its parallel loops: the calling thread works
/// too, and helpers that just finished a loop keep looking for the next one for
/// <see cref="EngineOptions.WorkerSpinTime"/> before they sleep, so the next loop of the same operator call
/// (padding, sampling, the GEMM's groups follow each other within microseconds) and the next call of a
/// caller that calls again soon start without waking a sleeping thread.</summary>
/// <remarks>
/// Why not the thread pool: <c>Parallel.For</c> queues to pool threads that sleep between loops, and
/// waking one costs 0.1 to 1 ms on a virtual machine. A forward pass of a small layer (a few ms on two
/// threads) runs three or four loops, and on a quiet two-core VM its median time was 1.4–1.7× its best
/// through the pool, where ONNX Runtime's spinning pool stayed within 10 % of its best.
/// <para>Work is shared by claiming: each participant calls the same <c>work</c> delegate, which claims
/// task indices from a shared counter until none is left, so a loop completes even when no helper joins
/// (a nested or concurrent call simply runs on its caller), and which thread ran a task never changes a
/// result. Once the caller's own call of <c>work</c> returns, every task has been claimed, so the caller
/// closes the job and waits only for the helpers that joined: a helper still waking up (0.05 to 2 ms on a
/// virtual machine) finds the job closed and skips it, instead of holding up a loop the caller finished
/// alone. Exceptions thrown by any participant reach the caller in an <see cref="AggregateException"/>,
/// as from <c>Parallel.For</c>.</para>
/// <para>Waking is worse than slow on a virtual machine: out of 100 wake-ups after a 15 ms pause, 28 took over
/// 0.5 ms (up to 5), and in 20 of those the helper ran on the caller's own vCPU (sched_getcpu) while the caller
/// kept it busy, the two sharing one core until the scheduler moved one. Hence the default
/// <see cref="EngineOptions.WorkerSpinTime"/> of 20 ms, after which an idle helper costs nothing; a sleeping helper
/// is woken with the caller's processor out of its affinity, so that the kernel cannot queue it there
/// (<see cref="Helper.WakeIfSleeping"/>). And where the two still end up sharing a vCPU, a helper that finds itself
/// on the caller's processor at the start of a task moves off it (<see cref="KeepApart"/>).</para>
/// </remarks>
internal static class CpuWorkers
{
    /// <summary>How long a helper spins hard for the next loop (then it yields between looks until
    /// <see cref="EngineOptions.WorkerSpinTime"/> has passed, then it blocks).</summary>
    private static readonly long HardSpinTicks = Stopwatch.Frequency / 2000;

    private static readonly object s_grow = new();
    private static Helper[] s_helpers = [];
    /// <summary>The current loop; a new object per loop, which is what helpers watch for.</summary>
    private static Job? s_job;
    private static int s_busy;

    [ThreadStatic] private static bool t_isHelper;

    /// <summary>Whether this thread is the caller of the job the helpers now run.</summary>
    [ThreadStatic] private static bool t_ownsJob;

    /// <summary>The processor the caller of the current loop last started a task on (−1: not known).</summary>
    private static int s_callerProcessor = -1;

    /// <summary>The caller's processor before <see cref="Helper.WakeIfSleeping"/> has looked it up.</summary>
    private const int UnknownProcessor = -2;

    /// <summary>Before each task of <see cref="For(int, int, Action{int})"/>: the caller notes its processor, and a
    /// helper that finds itself on it moves off (<see cref="ThreadPlacement"/>). Measured in one process, two
    /// threads, each call from an idle process, against the same code without it: N1 C256 28×28 forward median
    /// 8.0 → 5.4 ms in two runs of 60 calls (34–37 moves), N1 C64 56×56 2.66 → 2.98 at the median but 4.15 → 3.60
    /// at the 90th percentile; back to back and batched shapes unchanged (0–2 moves).</summary>
    private static void KeepApart()
    {
        // Only the caller that owns the current job notes its processor: a concurrent caller runs its loop inline.
        int here = ThreadPlacement.CurrentProcessor();
        if (t_ownsJob)
            Volatile.Write(ref s_callerProcessor, here);
        else if (t_isHelper && here >= 0 && here == Volatile.Read(ref s_callerProcessor))
            ThreadPlacement.MoveOff(here);
    }

    /// <summary>Runs <paramref name="work"/> on the calling thread and on up to
    /// <paramref name="threads"/> − 1 helpers at once, and returns when all have returned.</summary>
    public static void Run(int threads, Action work)
    {
        if (threads <= 1)
        {
            work();
            return;
        }
        if (t_isHelper || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            // Nested in a task, or another caller's loop is running: this loop runs on its caller alone, and
            // its exceptions still arrive in an AggregateException, as they do when helpers take part.
            try
            {
                work();
            }
            catch (Exception error)
            {
                throw new AggregateException(error);
            }
            return;
        }
        try
        {
            t_ownsJob = true;
            var helpers = EnsureHelpers(threads - 1);
            var job = new Job(work, threads - 1);
            // A full fence between publishing the job and reading the helpers' sleep flags.
            Interlocked.Exchange(ref s_job, job);
            int callerProcessor = UnknownProcessor;
            for (int i = 0; i < threads - 1; i++)
                helpers[i].WakeIfSleeping(ref callerProcessor);
            job.Participate();
            job.WaitForHelpers();
            job.ThrowIfFailed();
        }
        finally
        {
            t_ownsJob = false;
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>body(i) for every i in [0, count), claimed in order by up to
    /// <see cref="EngineOptions.Threads"/> threads.</summary>
    public static void For(int count, Action<int> body) => For(count, EngineOptions.Threads, body);

    /// <summary>body(i) for every i in [0, count), claimed in order by up to <paramref name="threads"/> threads.</summary>
    public static void For(int count, int threads, Action<int> body)
    {
        threads = Math.Min(threads, count);
        if (threads <= 1)
        {
            for (int i = 0; i < count; i++)
                body(i);
            return;
        }
        int next = 0;
        Run(threads, () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next) - 1) < count)
            {
                KeepApart();
                body(i);
            }
        });
    }

    /// <summary>How many of the first <paramref name="count"/> helpers (those a loop on count + 1 threads wakes) are
    /// blocked until a loop wakes them; the others are still looking for one.</summary>
    internal static int SleepingHelpers(int count) => Volatile.Read(ref s_helpers).Take(count).Count(helper => helper.Sleeping);

    private static Helper[] EnsureHelpers(int count)
    {
        var helpers = Volatile.Read(ref s_helpers);
        if (helpers.Length >= count)
            return helpers;
        lock (s_grow)
        {
            helpers = s_helpers;
            if (helpers.Length >= count)
                return helpers;
            var grown = new Helper[count];
            helpers.CopyTo(grown, 0);
            for (int i = helpers.Length; i < count; i++)
                grown[i] = new Helper(i);
            Volatile.Write(ref s_helpers, grown);
            return grown;
        }
    }

    private sealed class Job(Action work, int helpers)
    {
        /// <summary>Set in <see cref="_entered"/> once the caller has finished its share: no helper enters after.</summary>
        private const int Closed = 1 << 30;
        /// <summary>Helpers that entered the job, plus <see cref="Closed"/>.</summary>
        private int _entered;
        private int _finished;
        private List<Exception>? _errors;

        /// <summary>Helpers with an index at or above this sit the job out.</summary>
        public int Helpers { get; } = helpers;

        public void Participate()
        {
            try
            {
                work();
            }
            catch (Exception error)
            {
                lock (this)
                    (_errors ??= []).Add(error);
            }
        }

        /// <summary>A helper joins unless the caller has already finished its share (then every task was claimed).</summary>
        public bool TryEnter()
        {
            int state;
            do
            {
                state = Volatile.Read(ref _entered);
                if ((state & Closed) != 0)
                    return false;
            }
            while (Interlocked.CompareExchange(ref _entered, state + 1, state) != state);
            return true;
        }

        public void HelperDone() => Interlocked.Increment(ref _finished);

        /// <summary>Closes the job and waits for the helpers that entered it; one that has not woken yet is not
        /// waited for (it finds the job closed and skips it).</summary>
        public void WaitForHelpers()
        {
            int entered = Interlocked.Or(ref _entered, Closed) & ~Closed;
            var spinner = new SpinWait();
            while (Volatile.Read(ref _finished) < entered)
                spinner.SpinOnce(sleep1Threshold: -1);
        }

        public void ThrowIfFailed()
        {
            if (_errors is { Count: > 0 })
                throw new AggregateException(_errors);
        }
    }

    private sealed class Helper
    {
        private readonly int _index;
        private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
        private int _sleeping;

        public Helper(int index)
        {
            _index = index;
            // The job current now, before the caller publishes the one it is creating this helper for:
            // read in the thread itself, it could already be that new job, which would then be missed.
            var current = Volatile.Read(ref s_job);
            new Thread(() => Loop(current)) { IsBackground = true, Name = $"DeformEngine worker {index + 1}" }.Start();
        }

        /// <summary>The helper's affinity as it started (read once, on the helper, so never one a wake-up or
        /// <see cref="KeepApart"/> narrowed for a moment), and whether a wake-up has narrowed it since.</summary>
        private readonly ulong[] _affinity = new ulong[ThreadPlacement.MaskWords];
        private bool _steered;
        /// <summary>The helper's kernel thread id once it has read its affinity (0 until then, −1 where not known).</summary>
        private int _thread;

        /// <summary>Called after a job was published: a helper that announced sleep gets woken; one still
        /// spinning sees the job itself. A sleeping helper is woken with the caller's processor
        /// (<paramref name="callerProcessor"/>, looked up on the first such helper) taken out of its affinity, so
        /// that the kernel starts it on another processor; it puts its affinity back once awake.</summary>
        /// <remarks>Woken plainly after sleeping 140–170 ms, the helper of a two-thread product of 1.3–1.7 ms (2-vCPU
        /// VM of docs/benchmarks.md) joined 0.3–3 ms late in about half of 30 calls and not at all in 8 to 19 of them
        /// (the caller ran the product alone), in calls 30 ms apart within 0.1–0.3 ms; steered, it joined within
        /// 0.1–0.3 ms in all 30 after the same sleeps.</remarks>
        public void WakeIfSleeping(ref int callerProcessor)
        {
            if (Volatile.Read(ref _sleeping) != 1)
                return;
            if (callerProcessor == UnknownProcessor)
                callerProcessor = ThreadPlacement.CurrentProcessor();
            if (ThreadPlacement.SteerAway(Volatile.Read(ref _thread), callerProcessor, _affinity))
                Volatile.Write(ref _steered, true);
            _wake.Set();
        }

        /// <summary>On the helper: puts back the affinity a steered wake-up narrowed. Called after waking, on
        /// entering a job and before announcing sleep: a wake-up that found the helper already awake (it announced
        /// sleep, then saw the job before blocking) narrows it all the same, for at most that one job.</summary>
        private void RestoreAffinity()
        {
            if (!Volatile.Read(ref _steered))
                return;
            Volatile.Write(ref _steered, false);
            ThreadPlacement.SetAffinity(_affinity);
        }

        public bool Sleeping => Volatile.Read(ref _sleeping) == 1;

        private void Loop(Job? last)
        {
            t_isHelper = true;
            if (ThreadPlacement.ReadAffinity(_affinity))
                Volatile.Write(ref _thread, ThreadPlacement.CurrentThreadId());
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                long spin = (long)(EngineOptions.WorkerSpinTime.TotalSeconds * Stopwatch.Frequency);
                while (ReferenceEquals(Volatile.Read(ref s_job), last))
                {
                    long waited = Stopwatch.GetTimestamp() - start;
                    if (waited < spin)
                    {
                        if (waited < HardSpinTicks)
                            Thread.SpinWait(20);
                        else
                            Thread.Yield();
                        continue;
                    }
                    // Reset, announce, re-check, sleep: a wake-up sent after the announcement is kept by
                    // the event, and a job published before it is seen by the re-check.
                    RestoreAffinity();
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (ReferenceEquals(Volatile.Read(ref s_job), last))
                        _wake.Wait();
                    Volatile.Write(ref _sleeping, 0);
                    RestoreAffinity();
                }
                // NOTE: a job is taken once: the caller waits for every helper that entered it, so no later
                // job can replace this one before those helpers have finished it.
                var job = Volatile.Read(ref s_job)!;
                last = job;
                if (_index >= job.Helpers || !job.TryEnter())
                    continue;
                RestoreAffinity();
                job.Participate();
                job.HelperDone();
            }
        }
    }
}

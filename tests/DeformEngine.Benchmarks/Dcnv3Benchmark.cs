using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;

namespace DeformEngine.Benchmarks;

/// <summary><c>dcnv3 [--reps R] [--threads T] [--json PATH]</c>: float32 <see cref="Functional.Dcnv3{T}"/>
/// and <see cref="Functional.Dcnv4{T}"/> on the InternImage-T stage-2 shape of
/// tests/Benchmarks/dcnv3_bench.py (N=2, 56×56, C=128, G=8, 3×3, padding 1, stride 1), set up and timed
/// the same way: warm-up (two runs, and at least one second for the JIT), then the median of R; forward
/// alone outside autograd; backward alone (to input, offset and mask, or to input and offset_mask, for
/// L = Σ out·g) with its forward outside the timed region. Beside the wall-clock time it reports the
/// process's CPU time over all threads, which a shared, oversubscribed machine inflates less.</summary>
public static class Dcnv3Benchmark
{
    private const int Warmup = 2;
    private static readonly TimeSpan WarmupTime = TimeSpan.FromSeconds(1);

    public const int N = 2, Height = 56, Width = 56, Group = 8, GroupChannels = 16, Kernel = 3;

    private static void WarmUp(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Warmup || Stopwatch.GetElapsedTime(start) < WarmupTime; i++) action();
    }

    public static int Run(string[] args)
    {
        int reps = 9, threads = 2;
        string? json = null;
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i++])
            {
                case "--reps": reps = int.Parse(value); break;
                case "--threads": threads = int.Parse(value); break;
                case "--json": json = value; break;
                default: throw new ArgumentException($"unknown option {args[i - 1]}; options: --reps R, --threads T, --json PATH");
            }
        }
        if (reps < 1) throw new ArgumentOutOfRangeException(nameof(args), "--reps must be >= 1");
        EngineOptions.Threads = threads;
        Console.WriteLine($"DeformEngine, .NET {Environment.Version}, threads {threads}, reps {reps} (median), float32, CPU " +
                          $"(AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}, AVX-512F {Avx512F.IsSupported})");
        Console.WriteLine($"N={N} {Height}x{Width} C={Group * GroupChannels} G={Group} {Kernel}x{Kernel}, pad 1, stride 1");
        var results = new List<object>();
        foreach (var (name, run) in new (string, Func<int, Timings>)[] { ("dcnv3", BenchDcnv3), ("dcnv4", BenchDcnv4) })
        {
            var t = run(reps);
            results.Add(new { name, fwd_ms = t.Forward, bwd_ms = t.Backward, fwd_cpu_ms = t.ForwardCpu, bwd_cpu_ms = t.BackwardCpu });
            Console.WriteLine($"{name,-8}{t.Forward,10:F2} ms fwd{t.Backward,10:F2} ms bwd{t.Forward + t.Backward,10:F2} ms fwd+bwd" +
                              $"   (CPU, all threads: {t.ForwardCpu:F1} fwd, {t.BackwardCpu:F1} bwd)");
        }
        if (json is not null)
            File.WriteAllText(json, JsonSerializer.Serialize(new { engine = "DeformEngine", threads, reps, ops = results },
                new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }

    private static Timings BenchDcnv3(int reps)
    {
        int points = Kernel * Kernel;
        var input = Tensor<float>.Randn(1, N, Height, Width, Group * GroupChannels);
        var offset = Tensor<float>.Randn(2, N, Height, Width, Group * points * 2).MulScalar(2f);
        var mask = Tensor<float>.Rand(3, N, Height, Width, Group * points);
        var grad = Tensor<float>.Randn(4, N, Height, Width, Group * GroupChannels);
        return Time(() => Functional.Dcnv3(input, offset, mask, (Kernel, Kernel), padding: (1, 1), group: Group), [input, offset, mask], grad, reps);
    }

    private static Timings BenchDcnv4(int reps)
    {
        int points = Kernel * Kernel;
        var input = Tensor<float>.Randn(1, N, Height, Width, Group * GroupChannels);
        var offsetMask = Tensor<float>.Randn(2, N, Height, Width, Dcnv4Params.PackedLength(Group, points)).MulScalar(2f);
        var grad = Tensor<float>.Randn(4, N, Height, Width, Group * GroupChannels);
        return Time(() => Functional.Dcnv4(input, offsetMask, (Kernel, Kernel), padding: (1, 1), group: Group), [input, offsetMask], grad, reps);
    }

    /// <summary>Median wall-clock and process CPU milliseconds (all threads) of the forward and of the backward.</summary>
    private static Timings Time(Func<Tensor<float>> forward, Tensor<float>[] leaves, Tensor<float> grad, int reps)
    {
        var forwardTimes = new List<(double Wall, double Cpu)>();
        using (Autograd.NoGrad())
        {
            WarmUp(() => forward());
            for (int i = 0; i < reps; i++) forwardTimes.Add(Measure(() => forward()));
        }
        foreach (var leaf in leaves) leaf.RequiresGrad = true;
        WarmUp(() => forward().Backward(grad));
        var backwardTimes = new List<(double Wall, double Cpu)>();
        for (int i = 0; i < reps; i++)
        {
            foreach (var leaf in leaves) leaf.Grad = null;
            var output = forward();
            backwardTimes.Add(Measure(() => output.Backward(grad)));
        }
        foreach (var leaf in leaves)
        {
            leaf.Grad = null;
            leaf.RequiresGrad = false;
        }
        return new Timings(Median(forwardTimes, t => t.Wall), Median(backwardTimes, t => t.Wall),
            Median(forwardTimes, t => t.Cpu), Median(backwardTimes, t => t.Cpu));
    }

    private static (double Wall, double Cpu) Measure(Action action)
    {
        double cpuStart = ProcessCpuMilliseconds();
        long start = Stopwatch.GetTimestamp();
        action();
        double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return (wall, ProcessCpuMilliseconds() - cpuStart);
    }

    /// <summary>The process's CPU time over all threads. On Linux from clock_gettime(CLOCK_PROCESS_CPUTIME_ID):
    /// Process.TotalProcessorTime reads /proc in 10 ms ticks, too coarse for calls of a few milliseconds.</summary>
    private static double ProcessCpuMilliseconds()
    {
        if (!OperatingSystem.IsLinux()) return Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        const int ProcessCpuTimeClock = 2;
        return ClockGetTime(ProcessCpuTimeClock, out var time) == 0 ? time.Seconds * 1e3 + time.Nanoseconds * 1e-6 : double.NaN;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    private static double Median(List<(double Wall, double Cpu)> times, Func<(double Wall, double Cpu), double> pick)
    {
        var values = times.Select(pick).Order().ToList();
        return values[values.Count / 2];
    }

    private sealed record Timings(double Forward, double Backward, double ForwardCpu, double BackwardCpu);
}

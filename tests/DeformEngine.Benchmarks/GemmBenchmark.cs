using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using DeformEngine.Cpu;

namespace DeformEngine.Benchmarks;

/// <summary><c>gemm [--threads 1,2] [--pairs P] [--sizes 1024,2048] [--shapes all|1,2,…] [--streak S] [--double] [--self] [--json PATH]</c>:
/// <see cref="Gemm.Multiply{T}"/> against OpenBLAS (called in this process, see <see cref="OpenBlas"/>)
/// on square products and on the operator's three products of each shape (forward W·colsᵀ, gradient
/// columns prodᵀ·W, weight gradient prod·cols; rows = N·H·W, depth = 9·C), P interleaved pairs each
/// (the side that runs first alternates). On one thread the time is the thread's CPU time, which
/// leaves out preemption by other processes; on more threads it is wall-clock time, each run started once
/// the process is idle (<see cref="Timing.OnceFromIdle"/>: OpenBLAS's threads spin after a call, and the
/// engine's next run then had one core, measured at half of OpenBLAS's speed on some products); with --streak S each
/// timed run is the last of S back to back from idle (<see cref="Timing.OnceFromIdle"/>). Reported: GFLOP/s
/// from the fastest run of each side, their ratio, and the median of the pairs' ratios. With --self OpenBLAS runs on
/// both sides: what the ratios read for two equal sides on this machine now, the noise of the comparison.</summary>
public static class GemmBenchmark
{
    private sealed record Case(string Name, bool TransA, bool TransB, int M, int N, int K)
    {
        public double Flops => 2.0 * M * N * K;
    }

    public static int Run(string[] args)
    {
        int[] threadCounts = [1, 2];
        int pairs = 9, streak = 1;
        int[] sizes = [1024, 2048];
        string? shapes = "all", json = null;
        bool useDouble = false, self = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--double" or "--self")
            {
                useDouble |= args[i] == "--double";
                self |= args[i] == "--self";
                continue;
            }
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i++])
            {
                case "--threads": threadCounts = ParseList(value); break;
                case "--pairs": pairs = int.Parse(value); break;
                case "--streak": streak = int.Parse(value); break;
                case "--sizes": sizes = value == "none" ? [] : ParseList(value); break;
                case "--shapes": shapes = value; break;
                case "--json": json = value; break;
                default:
                    throw new ArgumentException($"unknown option {args[i - 1]}; options: --threads 1,2 --pairs P --sizes 1024,2048|none --shapes all|none|1,2,… --streak S --double --self --json PATH");
            }
        }
        var cases = new List<Case>();
        foreach (int size in sizes)
            cases.Add(new Case($"{size}^3", false, false, size, size, size));
        foreach (var shape in shapes == "none" ? [] : BenchShapes.Parse(shapes))
        {
            cases.Add(new Case($"{shape.Name} fwd", false, true, shape.O, shape.Rows, shape.Depth));
            cases.Add(new Case($"{shape.Name} gcol", true, false, shape.Rows, shape.Depth, shape.O));
            cases.Add(new Case($"{shape.Name} gw", false, false, shape.O, shape.Depth, shape.Rows));
        }
        if (streak < 1)
            throw new ArgumentException($"--streak must be at least 1, got {streak}");
        return useDouble ? Run<double>(cases, threadCounts, pairs, streak, self, json) : Run<float>(cases, threadCounts, pairs, streak, self, json);
    }

    private static int Run<T>(List<Case> cases, int[] threadCounts, int pairs, int streak, bool self, string? json)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Console.WriteLine(IsaReport.Describe());
        Console.WriteLine(OpenBlas.Describe());
        if (!OpenBlas.IsAvailable)
            return 1;
        Console.WriteLine($"{typeof(T).Name}, {pairs} interleaved pairs per case; GFLOP/s from each side's fastest run; " +
                          "1 thread: thread CPU time, more: wall-clock time; jit: methods the JIT compiled during the timed pairs" +
                          (streak > 1 ? $"; each timed run the last of {streak} back to back" : ""));
        if (self)
            Console.WriteLine("--self: the engine's column is OpenBLAS too (the ratios of two equal sides)");
        var results = new List<object>();
        foreach (int threads in threadCounts)
        {
            EngineOptions.Threads = threads;
            OpenBlas.Threads(threads);
            long settled = Timing.SettleJit(SmallProducts<T>());
            Console.WriteLine($"-- {threads} thread(s); before timing, {settled} methods compiled while small products ran until the JIT settled");
            Console.WriteLine($"{"product",-30}{"m",7}{"n",7}{"k",7}{"engine",9}{"OpenBLAS",10}{"ratio",7}{"median",8}{"max rel err",13}{"jit",5}");
            foreach (var c in cases)
            {
                var r = Measure<T>(c, threads, pairs, streak, self);
                results.Add(new
                {
                    name = c.Name, threads, c.M, c.N, c.K, engine_gflops = r.Engine, openblas_gflops = r.Blas,
                    ratio = r.Engine / r.Blas, median_pair_ratio = r.MedianRatio, max_relative_error = r.Error,
                    methods_jitted_during_pairs = r.Jitted,
                });
                Console.WriteLine($"{c.Name,-30}{c.M,7}{c.N,7}{c.K,7}{r.Engine,9:F1}{r.Blas,10:F1}{r.Engine / r.Blas,7:F2}{r.MedianRatio,8:F2}{r.Error,13:E1}{r.Jitted,5}");
            }
        }
        if (json is not null)
            File.WriteAllText(json, JsonSerializer.Serialize(new
            {
                isa = IsaReport.Isa, openblas = OpenBlas.Describe(), type = typeof(T).Name, pairs, streak, self, results,
            }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }

    /// <summary>One round of small products in the layouts of the cases (large enough for the threads), for
    /// <see cref="Timing.SettleJit"/>: the cases share the per-call code, which then reaches its steady tier.</summary>
    private static Action SmallProducts<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int size = 160;
        var random = new Random(2);
        T[] a = RandomMatrix<T>(random, size * size), b = RandomMatrix<T>(random, size * size), c = new T[size * size];
        return () =>
        {
            Gemm.Multiply(false, true, size, size, size, T.One, a, size, b, size, T.Zero, c, size);
            Gemm.Multiply(true, false, size, size, size, T.One, a, size, b, size, T.Zero, c, size);
            Gemm.Multiply(false, false, size, size, size, T.One, a, size, b, size, T.Zero, c, size);
        };
    }

    private static (double Engine, double Blas, double MedianRatio, double Error, long Jitted) Measure<T>(Case c, int threads, int pairs, int streak,
        bool self)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(1);
        T[] a = RandomMatrix<T>(random, c.M * c.K), b = RandomMatrix<T>(random, c.K * c.N);
        T[] ours = new T[c.M * c.N], theirs = new T[c.M * c.N];
        int lda = c.TransA ? c.M : c.K, ldb = c.TransB ? c.K : c.N;
        void Engine()
        {
            if (self)
                OpenBlas.Multiply(c.TransA, c.TransB, c.M, c.N, c.K, a, lda, b, ldb, ours, c.N);
            else
                Gemm.Multiply(c.TransA, c.TransB, c.M, c.N, c.K, T.One, a, lda, b, ldb, T.Zero, ours, c.N);
        }
        void Blas() => OpenBlas.Multiply(c.TransA, c.TransB, c.M, c.N, c.K, a, lda, b, ldb, theirs, c.N);
        // Warm-up: the first runs fault the outputs in and let tiered JIT finish optimising.
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 2 || Stopwatch.GetElapsedTime(start).TotalSeconds < 0.3; i++)
        {
            Engine();
            Blas();
        }
        // Sized up front: growing a list inside the pairs would compile its growth there.
        var engine = new List<double>(pairs);
        var blas = new List<double>(pairs);
        // One untimed run each first: the timing path's own first calls compile it.
        Timing.OnceFromIdle(Engine, threads, streak);
        Timing.OnceFromIdle(Blas, threads, streak);
        long jitBefore = Timing.CompiledMethods;
        for (int pair = 0; pair < pairs; pair++)
        {
            if (pair % 2 == 0)
            {
                engine.Add(Timing.OnceFromIdle(Engine, threads, streak));
                blas.Add(Timing.OnceFromIdle(Blas, threads, streak));
            }
            else
            {
                blas.Add(Timing.OnceFromIdle(Blas, threads, streak));
                engine.Add(Timing.OnceFromIdle(Engine, threads, streak));
            }
        }
        long jitted = Timing.CompiledMethods - jitBefore;
        var ratios = engine.Zip(blas, (e, o) => o / e).ToList();
        return (c.Flops / Samples.Min(engine) / 1e9, c.Flops / Samples.Min(blas) / 1e9, Samples.Median(ratios), MaxRelativeError(ours, theirs),
            jitted);
    }

    /// <summary>max |ours − theirs| / max |theirs|: the two sum in different orders.</summary>
    private static double MaxRelativeError<T>(T[] ours, T[] theirs) where T : IFloatingPointIeee754<T>
    {
        double scale = 0, error = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(double.CreateTruncating(theirs[i])));
            error = Math.Max(error, Math.Abs(double.CreateTruncating(ours[i]) - double.CreateTruncating(theirs[i])));
        }
        return scale == 0 ? error : error / scale;
    }

    private static int[] ParseList(string value) => value.Split(',').Select(int.Parse).ToArray();

    private static T[] RandomMatrix<T>(Random random, int length) where T : IFloatingPointIeee754<T>
    {
        var matrix = new T[length];
        for (int i = 0; i < matrix.Length; i++)
            matrix[i] = T.CreateTruncating(random.NextDouble() - 0.5);
        return matrix;
    }
}

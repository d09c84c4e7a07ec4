using System.Numerics;
using System.Text.Json;

namespace DeformEngine.Benchmarks;

/// <summary><c>floor [--shapes 1,2,3] [--pairs P] [--threads T] [--streak S] [--double] [--json PATH]</c>: the engine's
/// DeformConv2d forward + backward (every gradient; 3×3, padding 1, mask and bias) against OpenBLAS
/// running the operator's three products alone (forward W·colsᵀ, gradient columns prodᵀ·W, weight
/// gradient prod·cols, in this process through <see cref="OpenBlas"/>), P interleaved pairs. That ratio is
/// what the operator costs over the arithmetic it cannot avoid; on the GEMM-bound shapes the target is
/// at most 1.25. On one thread both are timed in the thread's CPU time (robust on a shared machine), on
/// more in wall-clock time, each run started once the process is idle (<see cref="Timing.OnceFromIdle"/>; with
/// --streak S the timed run is the last of S back to back). Set OPENBLAS_CORETYPE (SkylakeX, Haswell) to choose OpenBLAS's kernels.</summary>
public static class FloorBenchmark
{
    public static int Run(string[] args)
    {
        string shapes = "1,2,3";
        string? json = null;
        int pairs = 9, threads = 2, streak = 1;
        bool useDouble = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--shapes": shapes = args[++i]; break;
                case "--pairs": pairs = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--streak": streak = int.Parse(args[++i]); break;
                case "--double": useDouble = true; break;
                case "--json": json = args[++i]; break;
                default: throw new ArgumentException($"unknown option {args[i]}; options: --shapes 1,2,3 --pairs P --threads T --streak S --double --json PATH");
            }
        }
        Console.WriteLine(IsaReport.Describe());
        Console.WriteLine(OpenBlas.Describe());
        if (!OpenBlas.IsAvailable)
            return 1;
        if (streak < 1)
            throw new ArgumentException($"--streak must be at least 1, got {streak}");
        EngineOptions.Threads = threads;
        OpenBlas.Threads(threads);
        Console.WriteLine($"{(useDouble ? "float64" : "float32")}, {threads} thread(s), {Timing.ClockName(threads)}, {pairs} interleaved pairs{(streak > 1 ? $", each timed run the last of {streak} back to back" : "")}");
        var small = new BenchShape("N2 C32->32 16x16", 2, 32, 32, 16, 16);
        long settled = Timing.SettleJit(useDouble ? OperatorCall<double>(small) : OperatorCall<float>(small));
        Console.WriteLine($"before timing, {settled} methods compiled while {small.Name} calls ran until the JIT settled; jit: methods compiled during the timed pairs");
        Console.WriteLine($"{"shape",-22}{"fwd+bwd min",13}{"med",8}{"BLAS 3 min",12}{"med",8}{"ratio min",11}{"pairs",7}{"jit",5}");
        var results = new List<object>();
        foreach (var shape in BenchShapes.Parse(shapes))
        {
            var r = useDouble ? Measure<double>(shape, threads, pairs, streak) : Measure<float>(shape, threads, pairs, streak);
            results.Add(new
            {
                name = shape.Name, fwd_bwd_min_ms = r.OpMin, fwd_bwd_median_ms = r.OpMedian, blas3_min_ms = r.BlasMin,
                blas3_median_ms = r.BlasMedian, ratio_min = r.OpMin / r.BlasMin, median_pair_ratio = r.PairRatio,
                methods_jitted_during_pairs = r.Jitted,
            });
            Console.WriteLine($"{shape.Name,-22}{r.OpMin,13:F1}{r.OpMedian,8:F1}{r.BlasMin,12:F1}{r.BlasMedian,8:F1}{r.OpMin / r.BlasMin,11:F2}{r.PairRatio,7:F2}{r.Jitted,5}");
        }
        if (json is not null)
            File.WriteAllText(json, JsonSerializer.Serialize(new
            {
                isa = IsaReport.Isa, openblas = OpenBlas.Describe(), dtype = useDouble ? "float64" : "float32", threads, pairs, streak, results,
            }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }

    /// <summary>One forward + backward of the shape (every gradient), on inputs made once.</summary>
    private static Action OperatorCall<T>(BenchShape shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = BenchInputs<T>.For(shape);
        inputs.RequireGradients();
        return inputs.ForwardBackward;
    }

    private readonly record struct Result(double OpMin, double OpMedian, double BlasMin, double BlasMedian, double PairRatio, long Jitted);

    private static Result Measure<T>(BenchShape shape, int threads, int pairs, int streak) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var operatorCall = OperatorCall<T>(shape);
        int rows = shape.Rows, depth = shape.Depth, o = shape.O;
        var random = new Random(7);
        T[] w = Random<T>(random, o * depth), columns = Random<T>(random, rows * depth);
        T[] product = new T[o * rows], gradColumns = new T[rows * depth], gradWeight = new T[o * depth];
        void Blas()
        {
            OpenBlas.Multiply(false, true, o, rows, depth, w, depth, columns, depth, product, rows);
            OpenBlas.Multiply(true, false, rows, depth, o, product, rows, w, depth, gradColumns, depth);
            OpenBlas.Multiply(false, false, o, depth, rows, product, rows, columns, depth, gradWeight, depth);
        }

        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int i = 0; i < 2 || System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds < 1; i++)
        {
            operatorCall();
            Blas();
        }
        // Sized up front: growing a list inside the pairs would compile its growth there.
        var op = new List<double>(pairs);
        var blas = new List<double>(pairs);
        // One untimed run each first: the timing path's own first calls compile it.
        Timing.OnceFromIdle(operatorCall, threads, streak);
        Timing.OnceFromIdle(Blas, threads, streak);
        long jitBefore = Timing.CompiledMethods;
        for (int pair = 0; pair < pairs; pair++)
        {
            if (pair % 2 == 0)
            {
                op.Add(Timing.OnceFromIdle(operatorCall, threads, streak) * 1e3);
                blas.Add(Timing.OnceFromIdle(Blas, threads, streak) * 1e3);
            }
            else
            {
                blas.Add(Timing.OnceFromIdle(Blas, threads, streak) * 1e3);
                op.Add(Timing.OnceFromIdle(operatorCall, threads, streak) * 1e3);
            }
        }
        // Read before the statistics below, whose own first calls compile methods too.
        long jitted = Timing.CompiledMethods - jitBefore;
        return new Result(Samples.Min(op), Samples.Median(op), Samples.Min(blas), Samples.Median(blas),
            Samples.Median(op.Zip(blas, (x, y) => x / y).ToList()), jitted);
    }

    private static T[] Random<T>(Random random, int length) where T : IFloatingPointIeee754<T>
    {
        var values = new T[length];
        for (int i = 0; i < values.Length; i++)
            values[i] = T.CreateTruncating(random.NextDouble() - 0.5);
        return values;
    }
}

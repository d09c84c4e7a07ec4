using System.Diagnostics;
using System.Numerics;
using System.Text.Json;
using DeformEngine.Cpu;

namespace DeformEngine.Benchmarks;

/// <summary><c>deform [--shape K] [--reps R] [--threads T] [--sgemm] [--double] [--json PATH]</c>: float32
/// (float64 with --double) DeformConv2d (3×3, padding 1, mask and bias) on the three shapes of
/// tests/Benchmarks/torchvision_bench.py, set up and timed the same way: warm-up (two runs, and at
/// least one second for the JIT), then the median of R; forward alone outside autograd; backward alone (to input, offset, mask, weight and
/// bias, seeded with a random ∂L/∂out, i.e. L = Σ out·g) with its forward outside the timed region.
/// The peak RSS is read right after the operator runs, so with --shape K it is that of a process that
/// ran shape K alone. Then the time of each shape's three GEMMs alone (the floor the operator cannot
/// beat) and, without --shape or with --sgemm, the GFLOP/s of <see cref="Gemm.Multiply{T}"/> on
/// square products of the same type.</summary>
public static class DeformBenchmark
{
    private const int Warmup = 2;

    /// <summary>Warm-up also lasts at least this long: tiered JIT recompiles the hot kernels with full
    /// optimisation only after a delay, and two runs of a small shape end before that (measured:
    /// shape 1 forward ~1.5× slower after two warm-up runs than after one second of them).</summary>
    private static readonly TimeSpan WarmupTime = TimeSpan.FromSeconds(1);

    private static void WarmUp(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < Warmup || Stopwatch.GetElapsedTime(start) < WarmupTime; i++) action();
    }
    private static readonly int[] GemmSizes = [1024, 2048];

    private static readonly BenchShape[] Shapes = BenchShapes.Batched.ToArray();

    public static int Run(string[] args)
    {
        int shape = 0, reps = 5, threads = 2;
        string? json = null;
        bool sgemm = false, useDouble = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--sgemm" || args[i] == "--double")
            {
                sgemm |= args[i] == "--sgemm";
                useDouble |= args[i] == "--double";
                continue;
            }
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i++])
            {
                case "--shape": shape = int.Parse(value); break;
                case "--reps": reps = int.Parse(value); break;
                case "--threads": threads = int.Parse(value); break;
                case "--json": json = value; break;
                default: throw new ArgumentException($"unknown option {args[i - 1]}; options: --shape K, --reps R, --threads T, --sgemm, --double, --json PATH");
            }
        }
        return useDouble ? Run<double>(shape, reps, threads, sgemm, json) : Run<float>(shape, reps, threads, sgemm, json);
    }

    private static int Run<T>(int shape, int reps, int threads, bool sgemm, string? json) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (shape < 0 || shape > Shapes.Length) throw new ArgumentOutOfRangeException(nameof(shape), $"--shape must be in 1..{Shapes.Length}");
        if (reps < 1) throw new ArgumentOutOfRangeException(nameof(reps), "--reps must be >= 1");
        EngineOptions.Threads = threads;

        string type = typeof(T) == typeof(float) ? "float32" : "float64";
        Console.WriteLine($"DeformEngine, .NET {Environment.Version}, threads {threads}, reps {reps} (median), {type}, {IsaReport.Describe()}, " +
                          $"workspace {EngineOptions.WorkspaceBytes >> 20} MiB");
        Console.WriteLine("deform_conv2d 3x3, mask+bias, pad 1, stride 1");
        Console.WriteLine($"{"shape",-22}{"fwd ms",10}{"bwd ms",10}");
        var specs = shape > 0 ? [Shapes[shape - 1]] : Shapes;
        var times = new List<(double Forward, double Backward)>();
        foreach (var spec in specs)
        {
            times.Add(Measure<T>(spec, reps));
            Console.WriteLine($"{spec.Name,-22}{times[^1].Forward,10:F1}{times[^1].Backward,10:F1}");
        }
        double peakRssMb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
        Console.WriteLine($"peak RSS {peakRssMb:F0} MB");

        Console.WriteLine("the three GEMMs of each shape alone (forward, gradient columns, gradient weight)");
        var shapeResults = new List<object>();
        for (int s = 0; s < specs.Length; s++)
        {
            var spec = specs[s];
            double gemms = ThreeGemms<T>(spec.Rows, spec.Depth, spec.O, reps) * 1e3;
            shapeResults.Add(new { name = spec.Name, fwd_ms = times[s].Forward, bwd_ms = times[s].Backward, gemm3_ms = gemms });
            Console.WriteLine($"{spec.Name,-22}{gemms,10:F1} ms");
        }

        var gemmResults = new List<object>();
        if (shape == 0 || sgemm)
        {
            Console.WriteLine($"{(typeof(T) == typeof(float) ? "sgemm" : "dgemm")} (Gemm.Multiply, {type})");
            foreach (int size in GemmSizes)
            {
                double gflops = GemmGflops<T>(size, reps);
                gemmResults.Add(new { size, gflops });
                Console.WriteLine($"{size,6}^3 {gflops,10:F1} GFLOP/s");
            }
        }

        if (json is not null)
            File.WriteAllText(json, JsonSerializer.Serialize(new
            {
                engine = "DeformEngine",
                dotnet = Environment.Version.ToString(),
                isa = IsaReport.Isa,
                dtype = type,
                threads,
                reps,
                workspace_bytes = EngineOptions.WorkspaceBytes,
                shapes = shapeResults,
                gemm = gemmResults,
                peak_rss_mb = peakRssMb,
            }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }

    private static (double Forward, double Backward) Measure<T>(BenchShape shape, int reps)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = BenchInputs<T>.For(shape);
        var leaves = inputs.Leaves;
        Tensor<T> Forward() => inputs.Forward();

        double forward;
        using (Autograd.NoGrad())
        {
            WarmUp(() => Forward());
            forward = Timing.Median(() => Forward(), 0, reps);
        }

        foreach (var leaf in leaves) leaf.RequiresGrad = true;
        WarmUp(() => Forward().Backward(inputs.Grad));
        var seconds = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            foreach (var leaf in leaves) leaf.Grad = null;
            var output = Forward();
            long start = Stopwatch.GetTimestamp();
            output.Backward(inputs.Grad);
            seconds.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        foreach (var leaf in leaves)
        {
            leaf.Grad = null;
            leaf.RequiresGrad = false;
        }
        seconds.Sort();
        return (forward * 1e3, seconds[seconds.Count / 2] * 1e3);
    }

    /// <summary>The operator's three products at its sizes (rows = N·L output positions, depth C·9):
    /// forward O×rows×depth, gradient columns rows×depth×O, gradient weight O×depth×rows.</summary>
    private static double ThreeGemms<T>(int rows, int depth, int outChannels, int reps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(7);
        T[] weight = RandomMatrix<T>(random, outChannels * depth), columns = RandomMatrix<T>(random, rows * depth);
        T[] product = new T[outChannels * rows], gradColumns = new T[rows * depth], gradWeight = new T[outChannels * depth];
        return Timing.Median(() =>
        {
            Gemm.Multiply(false, true, outChannels, rows, depth, T.One, weight, depth, columns, depth, T.Zero, product, rows);
            Gemm.Multiply(true, false, rows, depth, outChannels, T.One, product, rows, weight, depth, T.Zero, gradColumns, depth);
            Gemm.Multiply(false, false, outChannels, depth, rows, T.One, product, rows, columns, depth, T.Zero, gradWeight, depth);
        }, Warmup, reps);
    }

    private static double GemmGflops<T>(int size, int reps) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(1);
        T[] a = RandomMatrix<T>(random, size * size), b = RandomMatrix<T>(random, size * size), c = new T[size * size];
        double seconds = Timing.Median(() => Gemm.Multiply(false, false, size, size, size, T.One, a, size, b, size, T.Zero, c, size), Warmup, reps);
        return 2.0 * size * size * size / seconds / 1e9;
    }

    private static T[] RandomMatrix<T>(Random random, int length) where T : IFloatingPointIeee754<T>
    {
        var matrix = new T[length];
        for (int i = 0; i < matrix.Length; i++) matrix[i] = T.CreateTruncating(random.NextDouble() - 0.5);
        return matrix;
    }
}

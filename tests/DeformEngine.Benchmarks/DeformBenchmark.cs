using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using DeformEngine.Cpu;

namespace DeformEngine.Benchmarks;

/// <summary><c>deform [--shape K] [--reps R] [--threads T] [--sgemm] [--json PATH]</c>: float32
/// DeformConv2d (3×3, padding 1, mask and bias) on the three shapes of
/// tests/Benchmarks/torchvision_bench.py, set up and timed the same way: warm-up (two runs, and at
/// least one second for the JIT), then the median of R; forward alone outside autograd; backward alone (to input, offset, mask, weight and
/// bias, seeded with a random ∂L/∂out, i.e. L = Σ out·g) with its forward outside the timed region.
/// The peak RSS is read right after the operator runs, so with --shape K it is that of a process that
/// ran shape K alone. Then the time of each shape's three GEMMs alone (the floor the operator cannot
/// beat) and, without --shape or with --sgemm, the GFLOP/s of <see cref="Gemm.Multiply{T}"/> on
/// square float products.</summary>
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

    private static readonly (string Name, int N, int C, int O, int H, int W)[] Shapes =
    [
        ("N8 C64->64 56x56", 8, 64, 64, 56, 56),
        ("N4 C256->256 28x28", 4, 256, 256, 28, 28),
        ("N2 C512->512 14x14", 2, 512, 512, 14, 14),
    ];

    public static int Run(string[] args)
    {
        int shape = 0, reps = 5, threads = 2;
        string? json = null;
        bool sgemm = false;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--sgemm")
            {
                sgemm = true;
                continue;
            }
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i++])
            {
                case "--shape": shape = int.Parse(value); break;
                case "--reps": reps = int.Parse(value); break;
                case "--threads": threads = int.Parse(value); break;
                case "--json": json = value; break;
                default: throw new ArgumentException($"unknown option {args[i - 1]}; options: --shape K, --reps R, --threads T, --sgemm, --json PATH");
            }
        }
        if (shape < 0 || shape > Shapes.Length) throw new ArgumentOutOfRangeException(nameof(args), $"--shape must be in 1..{Shapes.Length}");
        if (reps < 1) throw new ArgumentOutOfRangeException(nameof(args), "--reps must be >= 1");
        EngineOptions.Threads = threads;

        Console.WriteLine($"DeformEngine, .NET {Environment.Version}, threads {threads}, reps {reps} (median), float32, CPU " +
                          $"(AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}, AVX-512F {Avx512F.IsSupported}), workspace {EngineOptions.WorkspaceBytes >> 20} MiB");
        Console.WriteLine("deform_conv2d 3x3, mask+bias, pad 1, stride 1");
        Console.WriteLine($"{"shape",-22}{"fwd ms",10}{"bwd ms",10}");
        var specs = shape > 0 ? [Shapes[shape - 1]] : Shapes;
        var times = new List<(double Forward, double Backward)>();
        foreach (var spec in specs)
        {
            times.Add(BenchShape(spec, reps));
            Console.WriteLine($"{spec.Name,-22}{times[^1].Forward,10:F1}{times[^1].Backward,10:F1}");
        }
        double peakRssMb = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
        Console.WriteLine($"peak RSS {peakRssMb:F0} MB");

        Console.WriteLine("the three GEMMs of each shape alone (forward, gradient columns, gradient weight)");
        var shapeResults = new List<object>();
        for (int s = 0; s < specs.Length; s++)
        {
            var spec = specs[s];
            double gemms = ThreeGemms(spec.N * spec.H * spec.W, spec.C * 9, spec.O, reps) * 1e3;
            shapeResults.Add(new { name = spec.Name, fwd_ms = times[s].Forward, bwd_ms = times[s].Backward, gemm3_ms = gemms });
            Console.WriteLine($"{spec.Name,-22}{gemms,10:F1} ms");
        }

        var gemmResults = new List<object>();
        if (shape == 0 || sgemm)
        {
            Console.WriteLine("sgemm (Gemm.Multiply, float32)");
            foreach (int size in GemmSizes)
            {
                double gflops = GemmGflops(size, reps);
                gemmResults.Add(new { size, gflops });
                Console.WriteLine($"{size,6}^3 {gflops,10:F1} GFLOP/s");
            }
        }

        if (json is not null)
            File.WriteAllText(json, JsonSerializer.Serialize(new
            {
                engine = "DeformEngine",
                dotnet = Environment.Version.ToString(),
                threads,
                reps,
                workspace_bytes = EngineOptions.WorkspaceBytes,
                shapes = shapeResults,
                gemm = gemmResults,
                peak_rss_mb = peakRssMb,
            }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }

    private static (double Forward, double Backward) BenchShape((string Name, int N, int C, int O, int H, int W) spec, int reps)
    {
        var (_, n, c, o, h, w) = spec;
        var input = Tensor<float>.Randn(1, n, c, h, w);
        var offset = Tensor<float>.Randn(2, n, 18, h, w).MulScalar(2f);
        var mask = Tensor<float>.Rand(3, n, 9, h, w);
        var weight = Tensor<float>.Randn(4, o, c, 3, 3).MulScalar(1f / MathF.Sqrt(c * 9));
        var bias = Tensor<float>.Randn(5, o);
        var grad = Tensor<float>.Randn(6, n, o, h, w);
        Tensor<float>[] leaves = [input, offset, mask, weight, bias];
        Tensor<float> Forward() => Functional.DeformConv2d(input, offset, weight, bias, padding: (1, 1), mask: mask);

        double forward;
        using (Autograd.NoGrad())
        {
            WarmUp(() => Forward());
            forward = Timing.Median(() => Forward(), 0, reps);
        }

        foreach (var leaf in leaves) leaf.RequiresGrad = true;
        WarmUp(() => Forward().Backward(grad));
        var seconds = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            foreach (var leaf in leaves) leaf.Grad = null;
            var output = Forward();
            long start = Stopwatch.GetTimestamp();
            output.Backward(grad);
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
    private static double ThreeGemms(int rows, int depth, int outChannels, int reps)
    {
        var random = new Random(7);
        float[] weight = RandomMatrix(random, outChannels * depth), columns = RandomMatrix(random, rows * depth);
        float[] product = new float[outChannels * rows], gradColumns = new float[rows * depth], gradWeight = new float[outChannels * depth];
        return Timing.Median(() =>
        {
            Gemm.Multiply(false, true, outChannels, rows, depth, 1f, weight, depth, columns, depth, 0f, product, rows);
            Gemm.Multiply(true, false, rows, depth, outChannels, 1f, product, rows, weight, depth, 0f, gradColumns, depth);
            Gemm.Multiply(false, false, outChannels, depth, rows, 1f, product, rows, columns, depth, 0f, gradWeight, depth);
        }, Warmup, reps);
    }

    private static double GemmGflops(int size, int reps)
    {
        var random = new Random(1);
        float[] a = RandomMatrix(random, size * size), b = RandomMatrix(random, size * size), c = new float[size * size];
        double seconds = Timing.Median(() => Gemm.Multiply(false, false, size, size, size, 1f, a, size, b, size, 0f, c, size), Warmup, reps);
        return 2.0 * size * size * size / seconds / 1e9;
    }

    private static float[] RandomMatrix(Random random, int length)
    {
        var matrix = new float[length];
        for (int i = 0; i < matrix.Length; i++) matrix[i] = (float)(random.NextDouble() - 0.5);
        return matrix;
    }
}

using System.Diagnostics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;

namespace DeformEngine.Benchmarks;

/// <summary><c>attention [--reps R] [--threads T] [--json PATH]</c>: float32 MultiScaleDeformableAttention on
/// the Deformable DETR encoder shape of tests/Benchmarks/msda_bench.py (N = 2, levels 64², 32², 16², 8²,
/// 8 heads of 32 channels, 4 points, one query per pixel of every level: 5,440), set up and timed the
/// same way: each query's locations are its own pixel centre plus N(0, 1)·2 pixels of each level,
/// attention weights U(0, 1)/16. Warm-up (two runs and at least one second), then the median of R:
/// forward alone outside autograd; backward alone (to value, locations and weights, seeded with a random
/// ∂L/∂out) with its forward outside the timed region.</summary>
public static class AttentionBenchmark
{
    private const int Batch = 2, Heads = 8, Channels = 32, Points = 4;
    private static readonly (int H, int W)[] Shapes = [(64, 64), (32, 32), (16, 16), (8, 8)];
    private static readonly TimeSpan WarmupTime = TimeSpan.FromSeconds(1);

    public static int Run(string[] args)
    {
        int reps = 9, threads = 2;
        string? json = null;
        for (int i = 0; i < args.Length; i++)
        {
            string option = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i++])
            {
                case "--reps": reps = int.Parse(option); break;
                case "--threads": threads = int.Parse(option); break;
                case "--json": json = option; break;
                default: throw new ArgumentException($"unknown option {args[i - 1]}; options: --reps R, --threads T, --json PATH");
            }
        }
        if (reps < 1) throw new ArgumentOutOfRangeException(nameof(args), "--reps must be >= 1");
        EngineOptions.Threads = threads;

        int length = Shapes.Sum(s => s.H * s.W), queries = length, levels = Shapes.Length;
        var starts = new int[levels];
        for (int l = 1; l < levels; l++) starts[l] = starts[l - 1] + Shapes[l - 1].H * Shapes[l - 1].W;
        var value = Tensor<float>.Randn(1, Batch, length, Heads, Channels);
        var locations = Locations(starts, queries);
        var weights = Tensor<float>.Rand(3, Batch, queries, Heads, levels, Points).MulScalar(1f / (levels * Points));
        var grad = Tensor<float>.Randn(4, Batch, queries, Heads * Channels);
        Tensor<float>[] leaves = [value, locations, weights];
        Tensor<float> Forward() => Functional.MultiScaleDeformableAttention(value, Shapes, starts, locations, weights);

        Console.WriteLine($"DeformEngine, .NET {Environment.Version}, threads {threads}, reps {reps} (median), float32, CPU " +
                          $"(AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}, AVX-512F {Avx512F.IsSupported})");
        Console.WriteLine($"multi-scale deformable attention: N{Batch}, levels {string.Join(", ", Shapes.Select(s => $"{s.H}x{s.W}"))}, " +
                          $"{Heads} heads x {Channels} channels, {Points} points, {queries} queries");
        double forward;
        using (Autograd.NoGrad())
        {
            WarmUp(() => Forward());
            forward = Timing.Median(() => Forward(), 0, reps) * 1e3;
        }
        foreach (var leaf in leaves) leaf.RequiresGrad = true;
        WarmUp(() => Forward().Backward(grad));
        var seconds = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            foreach (var leaf in leaves) leaf.Grad = null;
            var output = Forward();
            long start = Stopwatch.GetTimestamp();
            output.Backward(grad);
            seconds[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(seconds);
        double backward = seconds[reps / 2] * 1e3;
        Console.WriteLine($"{"fwd ms",10}{"bwd ms",10}{"fwd+bwd ms",12}");
        Console.WriteLine($"{forward,10:F1}{backward,10:F1}{forward + backward,12:F1}");
        if (json is not null)
            File.WriteAllText(json, JsonSerializer.Serialize(new
            {
                engine = "DeformEngine",
                dotnet = Environment.Version.ToString(),
                threads,
                reps,
                fwd_ms = forward,
                bwd_ms = backward,
            }, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return 0;
    }

    private static void WarmUp(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 2 || Stopwatch.GetElapsedTime(start) < WarmupTime; i++) action();
    }

    /// <summary>[N, queries, heads, levels, points, 2]: query q's pixel centre in its own level, plus
    /// N(0, 1)·2 pixels of level l in x and y.</summary>
    private static Tensor<float> Locations(int[] starts, int queries)
    {
        int levels = Shapes.Length;
        var random = new SeededRandom(2);
        var data = new float[Batch * queries * Heads * levels * Points * 2];
        int at = 0;
        for (int b = 0; b < Batch; b++)
            for (int q = 0; q < queries; q++)
            {
                int own = Array.FindLastIndex(starts, s => s <= q);
                int pixel = q - starts[own], row = pixel / Shapes[own].W, column = pixel % Shapes[own].W;
                double x = (column + 0.5) / Shapes[own].W, y = (row + 0.5) / Shapes[own].H;
                for (int m = 0; m < Heads; m++)
                    for (int l = 0; l < levels; l++)
                        for (int p = 0; p < Points; p++)
                        {
                            data[at++] = (float)(x + random.NextNormal() * 2 / Shapes[l].W);
                            data[at++] = (float)(y + random.NextNormal() * 2 / Shapes[l].H);
                        }
            }
        return Tensor<float>.FromArray(data, Batch, queries, Heads, levels, Points, 2);
    }
}

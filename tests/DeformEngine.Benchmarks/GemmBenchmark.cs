using System.Numerics;
using System.Runtime.Intrinsics;
using DeformEngine.Cpu;

namespace DeformEngine.Benchmarks;

/// <summary><c>gemm [size ...]</c>: GFLOP/s of <see cref="Gemm.Multiply{T}"/> (C = A·B, square,
/// no transposes) for float and double, on 1 and 2 threads. Default sizes 1024 and 2048.</summary>
public static class GemmBenchmark
{
    private const int Warmup = 2;

    public static void Run(string[] args)
    {
        int[] sizes = args.Length > 0 ? args.Select(int.Parse).ToArray() : [1024, 2048];
        int savedThreads = EngineOptions.Threads;
        Console.WriteLine($"kernel: {(Vector512.IsHardwareAccelerated ? "Vector512" : "Vector256")}, {Environment.ProcessorCount} cores{LoadAverage()}");
        Console.WriteLine($"{"type",-7}{"size",6}{"threads",9}{"ms",10}{"GFLOP/s",10}");
        try
        {
            foreach (int size in sizes)
            {
                Measure<float>(size);
                Measure<double>(size);
            }
        }
        finally
        {
            EngineOptions.Threads = savedThreads;
        }
    }

    private static void Measure<T>(int size) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(1);
        T[] a = RandomMatrix<T>(random, size), b = RandomMatrix<T>(random, size);
        var c = new T[size * size];
        // Keep one size's timing to a few seconds: fewer reps for bigger products.
        int reps = Math.Clamp((int)(4e10 / ((double)size * size * size)), 3, 15);
        foreach (int threads in new[] { 1, 2 })
        {
            EngineOptions.Threads = threads;
            double seconds = Timing.Median(
                () => Gemm.Multiply(false, false, size, size, size, T.One, a, size, b, size, T.Zero, c, size),
                Warmup, reps);
            double gflops = 2.0 * size * size * size / seconds / 1e9;
            Console.WriteLine($"{typeof(T).Name,-7}{size,6}{threads,9}{seconds * 1e3,10:F1}{gflops,10:F1}");
        }
    }

    /// <summary>The 1-minute load average where Linux reports it: other processes on the cores
    /// depress every number, and this says by how much to distrust them.</summary>
    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? $", load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}" : "";

    private static T[] RandomMatrix<T>(Random random, int size) where T : IFloatingPointIeee754<T>
    {
        var matrix = new T[size * size];
        for (int i = 0; i < matrix.Length; i++)
            matrix[i] = T.CreateTruncating(random.NextDouble() - 0.5);
        return matrix;
    }
}

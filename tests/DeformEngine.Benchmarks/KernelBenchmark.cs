using System.Numerics;
using System.Runtime.Intrinsics;
using DeformEngine.Cpu;

namespace DeformEngine.Benchmarks;

/// <summary><c>kernel [--kc K,...] [--calls N] [--reps R]</c>: one core's GFLOP/s in each GEMM
/// micro-kernel alone, on packed panels that stay in L1 (one A panel, one B panel, one C tile),
/// so the number is the kernel's arithmetic rate with no cache misses: the ceiling the whole GEMM
/// approaches. Timed in thread CPU time, the minimum over R runs of N calls each, so that time the
/// thread spends preempted by other processes does not count.</summary>
public static unsafe class KernelBenchmark
{
    public static void Run(string[] args)
    {
        int[] depths = [128, 256, 384];
        int calls = 20000, reps = 15;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--kc": depths = args[i + 1].Split(',').Select(int.Parse).ToArray(); break;
                case "--calls": calls = int.Parse(args[i + 1]); break;
                case "--reps": reps = int.Parse(args[i + 1]); break;
                default: throw new ArgumentException($"unknown option {args[i]}; options: --kc K,..., --calls N, --reps R");
            }
        }
        Console.WriteLine($"{IsaReport.Describe()}; one thread, thread CPU time, min of {reps} × {calls} calls");
        Console.WriteLine($"{"kernel",-24}{"kc",6}{"GFLOP/s",10}{"macro",10}");
        foreach (int kc in depths)
        {
            Measure<float, GemmKernel256<float>>(kc, calls, reps);
            Measure<float, GemmKernel512<float>>(kc, calls, reps);
            Measure<double, GemmKernel256<double>>(kc, calls, reps);
            Measure<double, GemmKernel512<double>>(kc, calls, reps);
        }
    }

    private static void Measure<T, TKernel>(int kc, int calls, int reps)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T>
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        T[] a = Filled<T>(mr * kc), b = Filled<T>(nr * kc), c = new T[mr * nr];
        double best = double.MaxValue;
        var none = default(GemmPrefetch);
        fixed (T* pa = a, pb = b, pc = c)
        {
            for (int rep = 0; rep < reps + 1; rep++)
            {
                double start = CpuClock.Thread();
                for (int call = 0; call < calls; call++)
                    TKernel.Multiply(kc, pa, new GemmPackedPanel<T>(pb), pc, nr, T.One, T.One, overwrite: false, ref none, 0);
                double seconds = CpuClock.Thread() - start;
                if (rep > 0)
                    best = Math.Min(best, seconds);
            }
        }
        double gflops = 2.0 * mr * nr * kc * calls / best / 1e9;
        double macro = MeasureMacro<T, TKernel>(kc, Math.Max(1, calls / 100), reps);
        Console.WriteLine($"{typeof(TKernel).Name.Split('`')[0] + "<" + typeof(T).Name + "> " + mr + "x" + nr,-24}{kc,6}{gflops,10:F1}{macro,10:F1}");
    }

    /// <summary>The macro-kernel over 64 rows of A panels and a B slice of 480 columns: each A panel
    /// in L1 against every B panel of the slice, streamed from L2, as one GEMM task runs them.</summary>
    private static double MeasureMacro<T, TKernel>(int kc, int calls, int reps)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TKernel : struct, IGemmKernel<T>
    {
        const int rows = 64;
        int columns = 480 / TKernel.Columns * TKernel.Columns;
        T[] a = Filled<T>(rows * kc), b = Filled<T>(columns * kc), c = new T[rows * columns];
        double best = double.MaxValue;
        fixed (T* pa = a, pb = b, pc = c)
        {
            for (int rep = 0; rep < reps + 1; rep++)
            {
                double start = CpuClock.Thread();
                for (int call = 0; call < calls; call++)
                    GemmMacroKernel.Run<T, TKernel>(rows, columns, kc, pa, pb, pc, columns, T.One, T.One, overwrite: false, next: default);
                double seconds = CpuClock.Thread() - start;
                if (rep > 0)
                    best = Math.Min(best, seconds);
            }
        }
        return 2.0 * rows * columns * kc * calls / best / 1e9;
    }

    private static T[] Filled<T>(int length) where T : IFloatingPointIeee754<T>
    {
        var values = new T[length];
        for (int i = 0; i < length; i++)
            values[i] = T.CreateTruncating(1e-3 * (i % 7));
        return values;
    }
}

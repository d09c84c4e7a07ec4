using System.Numerics;

namespace DeformEngine.Benchmarks;

/// <summary><c>faults [--shapes all|1,2,…] [--calls N] [--threads T] [--double]</c>: minor page faults per
/// DeformConv2d call once warm (N calls after 5 of warm-up): forward alone (no autograd), and forward +
/// backward with every gradient. Reported with the 4 KiB pages of the call's own fresh results (the
/// output; for the backward also the input, offset, mask, weight and bias gradients), which the caller
/// owns and which the engine therefore cannot recycle: faults near that count mean the scratch buffers,
/// packed weights and GEMM panels took none.</summary>
public static class FaultBenchmark
{
    private const int PageBytes = 4096;

    public static int Run(string[] args)
    {
        string shapes = "all";
        int calls = 20, threads = 2;
        bool useDouble = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--shapes": shapes = args[++i]; break;
                case "--calls": calls = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--double": useDouble = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}; options: --shapes all|1,2,… --calls N --threads T --double");
            }
        }
        EngineOptions.Threads = threads;
        Console.WriteLine($"{IsaReport.Describe()}; minor page faults per call after 5 warm-up calls, {calls} calls; {(useDouble ? "float64" : "float32")}");
        Console.WriteLine($"{"shape",-22}{"fwd median",12}{"max",8}{"output pages",14}{"fwd+bwd median",16}{"max",8}{"result pages",14}");
        foreach (var shape in BenchShapes.Parse(shapes))
        {
            if (useDouble)
                Measure<double>(shape, calls);
            else
                Measure<float>(shape, calls);
        }
        return 0;
    }

    private static void Measure<T>(BenchShape shape, int calls) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = BenchInputs<T>.For(shape);
        var leaves = inputs.Leaves;
        void ForwardOnly()
        {
            using var _ = Autograd.NoGrad();
            inputs.Forward();
        }

        var forward = Count(ForwardOnly, calls);
        inputs.RequireGradients();
        var both = Count(inputs.ForwardBackward, calls);
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        long outputPages = Pages((long)shape.N * shape.O * shape.H * shape.W * size);
        long resultPages = outputPages + leaves.Sum(leaf => Pages((long)leaf.Numel * size));
        Console.WriteLine($"{shape.Name,-22}{Samples.Median(forward),12:F0}{Samples.Min(forward.Select(x => -x).ToList()) * -1,8:F0}{outputPages,14}" +
                          $"{Samples.Median(both),16:F0}{Samples.Min(both.Select(x => -x).ToList()) * -1,8:F0}{resultPages,14}");
    }

    private static List<double> Count(Action action, int calls)
    {
        for (int i = 0; i < 5; i++)
            action();
        var faults = new List<double>();
        for (int i = 0; i < calls; i++)
        {
            long before = PageFaults.Minor();
            action();
            faults.Add(PageFaults.Minor() - before);
        }
        return faults;
    }

    private static long Pages(long bytes) => (bytes + PageBytes - 1) / PageBytes;
}

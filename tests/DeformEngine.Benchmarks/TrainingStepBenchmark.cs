using System.Diagnostics;
using System.Numerics;

namespace DeformEngine.Benchmarks;

/// <summary><c>training [--shapes 2,3,5] [--pairs P] [--threads T] [--double]</c>: what a training step pays for
/// the weight having changed. Per shape (3×3, padding 1, mask and bias), P interleaved pairs of one DeformConv2d
/// forward + backward (gradients to input, offset, mask, weight and bias): one with the weight as the step before
/// left it, one right after a write to it (<see cref="Tensor{T}.AsSpan"/>, as an optimizer's step moves its version),
/// so that the fast path rebuilds its packed and permuted copies of the weight. Wall-clock, the side that runs first
/// alternating; reported: each side's median and fastest, and the medians' difference (the rebuild's cost).</summary>
public static class TrainingStepBenchmark
{
    public static int Run(string[] args)
    {
        string shapes = "2,3,5";
        int pairs = 31, threads = 2;
        bool useDouble = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--shapes": shapes = args[++i]; break;
                case "--pairs": pairs = int.Parse(args[++i]); break;
                case "--threads": threads = int.Parse(args[++i]); break;
                case "--double": useDouble = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}; options: --shapes 1,2,… --pairs P --threads T --double");
            }
        }
        if (pairs < 1)
            throw new ArgumentException($"--pairs must be at least 1, got {pairs}");
        EngineOptions.Threads = threads;
        Console.WriteLine($"{IsaReport.Describe()}; {(useDouble ? "float64" : "float32")}, {threads} thread(s), {pairs} interleaved pairs, wall-clock ms");
        Console.WriteLine($"{"shape",-22}{"unchanged med",15}{"min",8}{"written med",13}{"min",8}{"difference",12}");
        foreach (var shape in BenchShapes.Parse(shapes))
        {
            var (unchanged, written) = useDouble ? Measure<double>(shape, pairs) : Measure<float>(shape, pairs);
            double median = Samples.Median(unchanged), writtenMedian = Samples.Median(written);
            Console.WriteLine($"{shape.Name,-22}{median,15:F2}{Samples.Min(unchanged),8:F2}{writtenMedian,13:F2}{Samples.Min(written),8:F2}" +
                              $"{writtenMedian - median,12:F2}");
        }
        return 0;
    }

    private static (List<double> Unchanged, List<double> Written) Measure<T>(BenchShape shape, int pairs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = BenchInputs<T>.For(shape);
        inputs.RequireGradients();

        double Step(bool write)
        {
            long start = Stopwatch.GetTimestamp();
            if (write)
                inputs.Weight.AsSpan()[0] += T.Zero;
            inputs.ForwardBackward();
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < 1.5)
        {
            Step(write: true);
            Step(write: false);
        }
        var unchanged = new List<double>();
        var written = new List<double>();
        for (int pair = 0; pair < pairs; pair++)
        {
            if (pair % 2 == 0)
            {
                unchanged.Add(Step(write: false));
                written.Add(Step(write: true));
            }
            else
            {
                written.Add(Step(write: true));
                unchanged.Add(Step(write: false));
            }
        }
        return (unchanged, written);
    }
}

using System.Diagnostics;
using System.Text.Json;
using DeformEngine.Gpu;

namespace DeformEngine.GpuCheck;

/// <summary>
/// DeformConv2d forward and forward + backward (float32, 3×3 kernel, padding 1, mask and bias: the shapes of
/// tests/Benchmarks and N = 64 of the first), timed with the device synchronised before and after each repetition;
/// medians. tests/gpu/torchvision_deform.py times torchvision's deform_conv2d on the same shapes the same way.
/// </summary>
internal sealed class DeformBenchmark(GpuDevice device, CheckOptions options)
{
    private const int Warmup = 2;

    /// <summary>(name, N, C_in, C_out, H, W); "tiny" is for the CPU accelerator, which would take hours on the full ones.</summary>
    public static (string Name, int N, int C, int O, int H, int W)[] Shapes(string set) => set == "full"
        ?
        [
            ("N8 C64->64 56x56", 8, 64, 64, 56, 56),
            ("N4 C256->256 28x28", 4, 256, 256, 28, 28),
            ("N2 C512->512 14x14", 2, 512, 512, 14, 14),
            ("N64 C64->64 56x56", 64, 64, 64, 56, 56),
        ]
        :
        [
            ("N2 C8->8 14x14", 2, 8, 8, 14, 14),
            ("N1 C16->16 7x7", 1, 16, 16, 7, 7),
        ];

    private readonly List<Dictionary<string, object>> _results = [];

    public void Run(Report report)
    {
        var rows = new List<string[]>();
        foreach (var shape in Shapes(options.Shapes))
        {
            try
            {
                var (forward, both) = Time(shape.N, shape.C, shape.O, shape.H, shape.W);
                _results.Add(new() { ["shape"] = shape.Name, ["forward_ms"] = forward, ["forward_backward_ms"] = both });
                rows.Add([shape.Name, $"{forward:F3}", $"{both:F3}"]);
            }
            catch (Exception e)
            {
                rows.Add([shape.Name, "—", $"failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"]);
            }
        }
        report.Line($"## DeformConv2d speed on {device.Name} (float32, k3 pad1, mask and bias; median of {options.Reps}; {device.GemmDescription})");
        report.Line();
        report.Table(["shape", "forward ms", "forward + backward ms"], rows);
    }

    public string Json() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["device"] = device.Name,
        ["gemm"] = device.GemmDescription,
        ["reps"] = options.Reps,
        ["results"] = _results,
    }, new JsonSerializerOptions { WriteIndented = true });

    private (double Forward, double ForwardBackward) Time(int n, int c, int o, int h, int w)
    {
        var input = Leaf(Tensor<float>.Randn(1, n, c, h, w));
        var offset = Leaf(Tensor<float>.Randn(2, n, 18, h, w).MulScalar(2f));
        var mask = Leaf(Tensor<float>.Rand(3, n, 9, h, w));
        var weight = Leaf(Tensor<float>.Randn(4, o, c, 3, 3).MulScalar(1f / MathF.Sqrt(9 * c)));
        var bias = Leaf(Tensor<float>.Randn(5, o));
        var gradOutput = Tensor<float>.Randn(6, n, o, h, w).To(device);
        Tensor<float>[] leaves = [input, offset, mask, weight, bias];
        Tensor<float> Forward() => Functional.DeformConv2d(input, offset, weight, bias, padding: (1, 1), mask: mask);

        var forwardTimes = new List<double>();
        using (Autograd.NoGrad())
            for (int i = 0; i < Warmup + options.Reps; i++)
            {
                double ms = Timed(() => Forward());
                if (i >= Warmup) forwardTimes.Add(ms);
            }
        var bothTimes = new List<double>();
        for (int i = 0; i < Warmup + options.Reps; i++)
        {
            foreach (var leaf in leaves) leaf.ZeroGrad();
            double ms = Timed(() => Forward().Backward(gradOutput));
            if (i >= Warmup) bothTimes.Add(ms);
        }
        return (Median(forwardTimes), Median(bothTimes));
    }

    private Tensor<float> Leaf(Tensor<float> x)
    {
        var leaf = x.To(device);
        leaf.RequiresGrad = true;
        return leaf;
    }

    private double Timed(Action work)
    {
        device.Synchronize();
        var clock = Stopwatch.StartNew();
        work();
        device.Synchronize();
        return clock.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

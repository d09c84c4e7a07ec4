using DeformEngine.Gpu;

namespace DeformEngine.GpuCheck;

/// <summary>
/// Every operator of docs/gpu.md on the device against the CPU backend: forward and the gradient of every
/// differentiable input, for Σ output ⊙ R with a seeded random R, in float (tolerance 1e-4) and double (1e-10) —
/// the tolerances of the test suite: max |device − CPU| ≤ tol · max(max |CPU|, 1). Then deterministic mode (bitwise
/// identical over two runs). A failure is reported and counted, never thrown.
/// </summary>
internal sealed class OperatorChecks(GpuDevice device, Report report)
{
    private const double FloatTolerance = 1e-4, DoubleTolerance = 1e-10;

    private readonly List<string[]> _rows = [];

    public int Failures { get; private set; }

    public void RunAll(string title)
    {
        Cases<float>(all: true);
        if (device.SupportsDouble) Cases<double>(all: true);
        Flush($"Operators against the CPU ({title})");
    }

    /// <summary>The cases whose cost is matrix products, again (another GEMM selected).</summary>
    public void RunProducts(string title)
    {
        Cases<float>(all: false);
        if (device.SupportsDouble) Cases<double>(all: false);
        Flush($"Matrix-product operators against the CPU ({title})");
    }

    public void RunDeterministic()
    {
        if (!device.SupportsDeterministic)
        {
            report.Line("Deterministic mode: not supported on this device.");
            return;
        }
        device.Deterministic = true;
        try
        {
            Deterministic<float>("DeformConv2d N4 C8→8 12² mask", x => Functional.DeformConv2d(x[0], x[1], x[2], null, padding: (1, 1), mask: x[3]),
                [Tensor<float>.Randn(1, 4, 8, 12, 12), Tensor<float>.Randn(2, 4, 18, 12, 12).MulScalar(3f), Tensor<float>.Randn(3, 8, 8, 3, 3),
                 Tensor<float>.Rand(4, 4, 9, 12, 12)]);
            Deterministic<float>("BilinearSample 2000 points on 4×4", x => Functional.BilinearSample(x[0], x[1]),
                [Tensor<float>.Randn(5, 2, 3, 4, 4), Tensor<float>.Rand(6, 2, 2000, 2).MulScalar(4f).AddScalar(-0.5f)]);
            var rois = Rois<float>(8, 2, 10, 9, seed: 7);
            Deterministic<float>("RoIAlign 8 RoIs", x => Functional.RoIAlign(x[0], rois.To(x[0].Device), (3, 3), 1.0, -1, aligned: true),
                [Tensor<float>.Randn(8, 2, 3, 10, 9)]);
            if (device.SupportsDouble)
                Deterministic<double>("DeformConv2d double", x => Functional.DeformConv2d(x[0], x[1], x[2], null, padding: (1, 1), mask: x[3]),
                    [Tensor<double>.Randn(1, 2, 4, 9, 9), Tensor<double>.Randn(2, 2, 18, 9, 9).MulScalar(3.0), Tensor<double>.Randn(3, 4, 4, 3, 3),
                     Tensor<double>.Rand(4, 2, 9, 9, 9)]);
        }
        finally
        {
            device.Deterministic = false;
        }
        Flush("Deterministic mode: two runs bitwise identical, and close to the CPU");
    }

    /// <summary>Which kernels ran on the device during the checks, against all the library's kernels.</summary>
    public void ReportKernelCoverage()
    {
        var loaded = device.LoadedKernels.Select(k => $"{k.Owner.Name}.{k.Name} ({k.Element.Name})").ToHashSet();
        var all = GpuKernelTargets.Kernels().Select(k => $"{k.Owner.Name}.{k.Name} ({k.Element.Name})")
            .Where(k => device.SupportsDouble || !k.EndsWith("(Double)", StringComparison.Ordinal)).ToList();
        var missing = all.Where(k => !loaded.Contains(k)).ToList();
        report.Line($"Kernels compiled and run on the device: {all.Count - missing.Count} of {all.Count}"
            + (missing.Count == 0 ? "." : $"; not reached: {string.Join(", ", missing)}."));
        report.Line();
    }

    private void Cases<T>(bool all) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T Scalar(double v) => T.CreateChecked(v);
        Check<T>("DeformConv2d N2 C4→5 7×6 k3 pad1 mask bias", x => Functional.DeformConv2d(x[0], x[1], x[2], x[3], padding: (1, 1), mask: x[4]),
            [Tensor<T>.Randn(11, 2, 4, 7, 6), Tensor<T>.Randn(12, 2, 18, 7, 6).MulScalar(Scalar(1.5)), Tensor<T>.Randn(13, 5, 4, 3, 3),
             Tensor<T>.Randn(14, 5), Tensor<T>.Rand(15, 2, 9, 7, 6)]);
        Check<T>("DeformConv2d N2 C4→6 9×8 stride(2,1) dil(1,2) groups2 og2", x => Functional.DeformConv2d(x[0], x[1], x[2], x[3],
                stride: (2, 1), padding: (1, 2), dilation: (1, 2), mask: x[4]),
            [Tensor<T>.Randn(21, 2, 4, 9, 8), Tensor<T>.Randn(22, 2, 36, 5, 8).MulScalar(Scalar(1.5)), Tensor<T>.Randn(23, 6, 2, 3, 3),
             Tensor<T>.Randn(24, 6), Tensor<T>.Rand(25, 2, 18, 5, 8)]);
        Check<T>("DeformConv2d N33 C2→3 5×4 no mask no bias", x => Functional.DeformConv2d(x[0], x[1], x[2], padding: (1, 1)),
            [Tensor<T>.Randn(31, 33, 2, 5, 4), Tensor<T>.Randn(32, 33, 18, 5, 4).MulScalar(Scalar(6)), Tensor<T>.Randn(33, 3, 2, 3, 3)]);
        Check<T>("DeformConv2d N2 C32→48 20² mask bias", x => Functional.DeformConv2d(x[0], x[1], x[2], x[3], padding: (1, 1), mask: x[4]),
            [Tensor<T>.Randn(41, 2, 32, 20, 20), Tensor<T>.Randn(42, 2, 18, 20, 20), Tensor<T>.Randn(43, 48, 32, 3, 3).MulScalar(Scalar(0.1)),
             Tensor<T>.Randn(44, 48), Tensor<T>.Rand(45, 2, 9, 20, 20)]);
        Check<T>("Conv2d N2 C4→6 9×8 k3 pad1 groups2 bias", x => Functional.Conv2d(x[0], x[1], x[2], padding: (1, 1), groups: 2),
            [Tensor<T>.Randn(51, 2, 4, 9, 8), Tensor<T>.Randn(52, 6, 2, 3, 3), Tensor<T>.Randn(53, 6)]);
        Check<T>("Conv2d N3 C3→4 11² k3 stride2 dil2", x => Functional.Conv2d(x[0], x[1], null, stride: (2, 2), padding: (2, 2), dilation: (2, 2)),
            [Tensor<T>.Randn(54, 3, 3, 11, 11), Tensor<T>.Randn(55, 4, 3, 3, 3)]);
        Check<T>("Linear 17×40 → 23 bias", x => Functional.Linear(x[0], x[1], x[2]),
            [Tensor<T>.Randn(61, 17, 40), Tensor<T>.Randn(62, 23, 40), Tensor<T>.Randn(63, 23)]);
        Check<T>("MatMul batched [3,5,7]·[3,7,4]", x => x[0].MatMul(x[1]), [Tensor<T>.Randn(64, 3, 5, 7), Tensor<T>.Randn(65, 3, 7, 4)]);
        if (!all) return;
        Check<T>("BilinearSample N2 C3 6×5 P40", x => Functional.BilinearSample(x[0], x[1]),
            [Tensor<T>.Randn(71, 2, 3, 6, 5), Tensor<T>.Rand(72, 2, 40, 2).MulScalar(Scalar(7)).AddScalar(Scalar(-1))]);
        var rois = Rois<T>(5, 2, 9, 11, seed: 81);
        Check<T>("RoIAlign aligned adaptive 3×2", x => Functional.RoIAlign(x[0], rois.To(x[0].Device), (3, 2), 0.9, -1, aligned: true), [Tensor<T>.Randn(82, 2, 3, 9, 11)]);
        Check<T>("PSRoIAlign 2×2 ratio2", x => Functional.PSRoIAlign(x[0], rois.To(x[0].Device), (2, 2), 0.9, 2), [Tensor<T>.Randn(83, 2, 12, 9, 11)]);
        Check<T>("DeformRoIPool 3×3 offset", x => Functional.DeformRoIPool(x[0], rois.To(x[0].Device), x[1], (3, 3), 0.9, 0, 0.2),
            [Tensor<T>.Randn(84, 2, 3, 9, 11), Tensor<T>.Randn(85, 5, 2, 3, 3)]);
        Check<T>("ModulatedDeformRoIPool 3×2", x => Functional.ModulatedDeformRoIPool(x[0], rois.To(x[0].Device), x[1], x[2], (3, 2), 0.9, 2, 0.1),
            [Tensor<T>.Randn(86, 2, 3, 9, 11), Tensor<T>.Randn(87, 5, 2, 3, 2), Tensor<T>.Rand(88, 5, 1, 3, 2)]);
        Check<T>("DeformPSRoIPool G2 P3 parts2 classes2", x => Functional.DeformPSRoIPool(x[0], rois.To(x[0].Device), x[1], 0.9, 4, 2, 3, 2, 2, 0.1),
            [Tensor<T>.Randn(89, 2, 16, 9, 11), Tensor<T>.Randn(90, 5, 4, 2, 2)]);
        Check<T>("MaxPool2d k3 s2 p1", x => Functional.MaxPool2d(x[0], (3, 3), (2, 2), (1, 1)), [Tensor<T>.Randn(91, 2, 3, 9, 8)]);
        Check<T>("AvgPool2d k3 s2 p1", x => Functional.AvgPool2d(x[0], (3, 3), (2, 2), (1, 1)), [Tensor<T>.Randn(92, 2, 3, 9, 8)]);
        Check<T>("AdaptiveAvgPool2d → 3×2", x => Functional.AdaptiveAvgPool2d(x[0], (3, 2)), [Tensor<T>.Randn(93, 2, 3, 8, 7)]);
        Check<T>("BatchNorm2d training, running statistics", x => RunningStatistics<T>(x[0].Device, (mean, variance) =>
                Functional.BatchNorm2d(x[0], mean, variance, x[1], x[2], training: true)),
            [Tensor<T>.Randn(94, 4, 3, 5, 6), Tensor<T>.Rand(95, 3).AddScalar(Scalar(0.5)), Tensor<T>.Randn(96, 3)]);
        Check<T>("BatchNorm2d evaluation", x => Functional.BatchNorm2d(x[0], Tensor<T>.Randn(97, 3).To(x[0].Device),
                Tensor<T>.Rand(98, 3).AddScalar(Scalar(0.5)).To(x[0].Device), x[1], x[2], training: false),
            [Tensor<T>.Randn(99, 4, 3, 5, 6), Tensor<T>.Rand(100, 3).AddScalar(Scalar(0.5)), Tensor<T>.Randn(101, 3)]);
        int[] targets = [3, 0, 4, 1, 1, 2, 0];
        Check<T>("CrossEntropy 7×5 mean", x => Functional.CrossEntropy(x[0], targets), [Tensor<T>.Randn(102, 7, 5)]);
        Check<T>("MseLoss", x => Functional.MseLoss(x[0], x[1]), [Tensor<T>.Randn(103, 4, 6), Tensor<T>.Randn(104, 4, 6)]);
        Check<T>("broadcast + − × ÷", x => x[0].Add(x[1]).Mul(x[2]).Sub(x[1]).Div(x[2].Abs().AddScalar(Scalar(1))),
            [Tensor<T>.Randn(105, 3, 4, 5), Tensor<T>.Randn(106, 4, 1), Tensor<T>.Randn(107, 1, 5)]);
        Check<T>("exp log sqrt tanh sigmoid relu reciprocal pow", x => x[0].Exp().Add(x[0].Abs().AddScalar(Scalar(1)).Log())
                .Add(x[0].Abs().AddScalar(Scalar(0.5)).Sqrt()).Add(x[0].Tanh()).Add(x[0].Sigmoid()).Add(x[0].Relu())
                .Add(x[0].Abs().AddScalar(Scalar(2)).Reciprocal()).Add(x[0].Abs().AddScalar(Scalar(0.5)).Pow(Scalar(1.7))),
            [Tensor<T>.Randn(108, 6, 7)]);
        Check<T>("softmax, log-softmax, sums, means", x => x[0].Softmax(1).Add(x[0].LogSoftmax(-1)).Sum(2, keepDim: true)
                .Add(x[0].Mean(0, keepDim: true).Sum(2, keepDim: true)), [Tensor<T>.Randn(109, 3, 4, 5)]);
        Check<T>("permute, cat, slice", x => Tensor<T>.Cat([x[0].Permute(2, 0, 1), x[1]], 1).Slice(0, 1, 3).Mul(x[2]),
            [Tensor<T>.Randn(110, 3, 4, 5), Tensor<T>.Randn(111, 5, 2, 4), Tensor<T>.Randn(112, 3, 5, 4)]);
    }

    /// <summary>The output plus the running statistics the call updated, broadcast, so the update is compared too.</summary>
    private static Tensor<T> RunningStatistics<T>(Device on, Func<Tensor<T>, Tensor<T>, Tensor<T>> batchNorm)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mean = Tensor<T>.Zeros(3).To(on);
        var variance = Tensor<T>.Ones(3).To(on);
        var output = batchNorm(mean, variance);
        return output.Add(mean.Reshape(1, 3, 1, 1)).Add(variance.Reshape(1, 3, 1, 1));
    }

    private void Check<T>(string name, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double tolerance = typeof(T) == typeof(float) ? FloatTolerance : DoubleTolerance;
        try
        {
            var expected = ForwardBackward(Device.Cpu, function, inputs);
            var actual = ForwardBackward(device, function, inputs);
            double worst = 0;
            for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, RelativeError(expected[i], actual[i]));
            bool pass = worst <= tolerance;
            if (!pass) Failures++;
            _rows.Add([name, typeof(T).Name, $"{worst:E2}", $"{tolerance:E0}", pass ? "pass" : "**FAIL**"]);
        }
        catch (Exception e)
        {
            Failures++;
            _rows.Add([name, typeof(T).Name, "—", $"{tolerance:E0}", $"**FAIL**: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"]);
        }
    }

    private void Deterministic<T>(string name, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double tolerance = typeof(T) == typeof(float) ? FloatTolerance : DoubleTolerance;
        try
        {
            var first = ForwardBackward(device, function, inputs);
            var second = ForwardBackward(device, function, inputs);
            bool identical = first.Zip(second).All(p => p.First.ToArray().AsSpan().SequenceEqual(p.Second.ToArray()));
            var expected = ForwardBackward(Device.Cpu, function, inputs);
            double worst = expected.Zip(first).Max(p => RelativeError(p.First, p.Second));
            bool pass = identical && worst <= tolerance;
            if (!pass) Failures++;
            _rows.Add([name, typeof(T).Name, $"{worst:E2}", identical ? "identical" : "**differ**", pass ? "pass" : "**FAIL**"]);
        }
        catch (Exception e)
        {
            Failures++;
            _rows.Add([name, typeof(T).Name, "—", "—", $"**FAIL**: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"]);
        }
    }

    private void Flush(string title)
    {
        report.Line($"## {title}");
        report.Line();
        report.Table(["operator", "precision", "max error (relative)", _rows.FirstOrDefault()?[3] is "identical" or "**differ**" ? "runs" : "tolerance", "result"], _rows);
        _rows.Clear();
    }

    /// <summary>[output, ∂/∂input 0, …] on the CPU, for Σ output ⊙ R with R seeded.</summary>
    private static Tensor<T>[] ForwardBackward<T>(Device on, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var leaves = inputs.Select(x =>
        {
            var leaf = x.Detach().To(on);
            leaf.RequiresGrad = true;
            return leaf;
        }).ToArray();
        var output = function(leaves);
        output.Mul(Tensor<T>.Randn(12345, output.Shape).To(on)).Sum().Backward();
        return [output.To(Device.Cpu), .. leaves.Select(l => l.Grad?.To(Device.Cpu) ?? Tensor<T>.Zeros(l.Shape))];
    }

    private static double RelativeError<T>(Tensor<T> expected, Tensor<T> actual) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var e = expected.ToArray();
        var a = actual.ToArray();
        if (e.Length != a.Length) return double.PositiveInfinity;
        double scale = 1, worst = 0;
        foreach (var v in e) scale = Math.Max(scale, Math.Abs(double.CreateChecked(v)));
        for (int i = 0; i < e.Length; i++)
        {
            double diff = Math.Abs(double.CreateChecked(a[i]) - double.CreateChecked(e[i]));
            worst = double.IsNaN(diff) && !(T.IsNaN(a[i]) && T.IsNaN(e[i])) ? double.PositiveInfinity : Math.Max(worst, double.IsNaN(diff) ? 0 : diff);
        }
        return worst / scale;
    }

    /// <summary>K RoIs [batch, x1, y1, x2, y2] inside an H×W image (in input pixels, before the spatial scale).</summary>
    private static Tensor<T> Rois<T>(int count, int batch, int height, int width, long seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new SeededRandom(seed);
        var values = new T[count * 5];
        for (int k = 0; k < count; k++)
        {
            double x1 = random.NextDouble() * width * 0.6, y1 = random.NextDouble() * height * 0.6;
            values[5 * k] = T.CreateChecked(k % batch);
            values[5 * k + 1] = T.CreateChecked(x1);
            values[5 * k + 2] = T.CreateChecked(y1);
            values[5 * k + 3] = T.CreateChecked(x1 + 1 + random.NextDouble() * width * 0.5);
            values[5 * k + 4] = T.CreateChecked(y1 + 1 + random.NextDouble() * height * 0.5);
        }
        return Tensor<T>.FromArray(values, count, 5);
    }
}

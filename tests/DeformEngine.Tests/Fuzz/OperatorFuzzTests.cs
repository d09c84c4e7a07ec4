using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Fuzz;

/// <summary>Seeded random valid configurations of every public operator, checked against an
/// independent path: DeformConv2d and Conv2d fast against reference (batch 0 and 1, sizes 1, huge,
/// non-finite, exact-integer and exact-border offsets); BilinearSample against DeformConv2d's
/// reference as a 1×1 depthwise identity; the pools against plain loops written here; the RoI family
/// against the identities that tie its members together; the rest by finite differences.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class OperatorFuzzTests
{
    // Fast vs reference in double: the same products summed in another order (blocked GEMM, channel
    // sums per corner), a few ulps of the largest value.
    private const double DoubleTolerance = 1e-11;
    // In float the same reordering, relative to a 24-bit mantissa.
    private const double FloatTolerance = 1e-4;
    // Two spellings of the same sum (pools, RoI identities), in double.
    private const double IdentityTolerance = 1e-12;
    private const int Configurations = 40;

    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, Configurations).Select(s => new object[] { s });

    /// <summary>Sampling coordinates that land on the cases that matter: random, on an exact integer,
    /// exactly on −1, 0, size−1 or size, huge, or not finite (given here as the point; the caller
    /// subtracts the grid position to get the offset).</summary>
    private static double Coordinate(SeededRandom rng, int size) => rng.NextInt(10) switch
    {
        0 or 1 => rng.NextNormal() * 2 + size / 2.0,
        2 => rng.NextInt(size + 4) - 2,
        3 => -1,
        4 => 0,
        5 => size - 1,
        6 => size,
        7 => (rng.NextInt(2) == 0 ? -1 : 1) * Math.Pow(10, 3 + rng.NextInt(28)),
        8 => rng.NextInt(8) == 0 ? (rng.NextInt(2) == 0 ? double.NaN : double.PositiveInfinity) : -1 + rng.NextDouble() * 1e-9,
        _ => size - rng.NextDouble() * 1e-9,
    };

    private sealed record DeformConfig(int N, int C, int O, int H, int W, int Kh, int Kw, (int H, int W) Stride,
        (int H, int W) Padding, (int H, int W) Dilation, int Groups, int OffsetGroups, bool Mask, bool Bias)
    {
        public int OutH => Out(H, Kh, Stride.H, Padding.H, Dilation.H);
        public int OutW => Out(W, Kw, Stride.W, Padding.W, Dilation.W);

        private static int Out(int size, int k, int s, int p, int d)
        {
            int span = size + 2 * p - d * (k - 1) - 1;
            return span < 0 ? 0 : span / s + 1;
        }
    }

    private static DeformConfig MakeDeformConfig(SeededRandom rng)
    {
        while (true)
        {
            int groups = 1 + rng.NextInt(2), offsetGroups = 1 + rng.NextInt(2);
            int[] batches = [0, 1, 1, 2, 3];
            var config = new DeformConfig(batches[rng.NextInt(batches.Length)], groups * offsetGroups * (1 + rng.NextInt(2)),
                groups * (1 + rng.NextInt(3)), 1 + rng.NextInt(7), 1 + rng.NextInt(7), 1 + rng.NextInt(3), 1 + rng.NextInt(3),
                (1 + rng.NextInt(2), 1 + rng.NextInt(2)), (rng.NextInt(3), rng.NextInt(3)), (1 + rng.NextInt(2), 1 + rng.NextInt(2)),
                groups, offsetGroups, rng.NextInt(3) != 0, rng.NextInt(2) == 0);
            if (config.OutH >= 1 && config.OutW >= 1) return config;
        }
    }

    private static (string, T[]?)[] RunDeform<T>(DeformConfig c, long seed, bool reference) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SeededRandom(seed);
        int k = c.Kh * c.Kw;
        var offsetData = new double[c.N * 2 * c.OffsetGroups * k * c.OutH * c.OutW];
        int L = c.OutH * c.OutW;
        for (int field = 0; field < offsetData.Length / (2 * L); field++)
            for (int l = 0; l < L; l++)
            {
                int point = field % k, i = point / c.Kw, j = point % c.Kw, oy = l / c.OutW, ox = l % c.OutW;
                offsetData[2 * field * L + l] = Coordinate(rng, c.H) - (oy * c.Stride.H - c.Padding.H + i * c.Dilation.H);
                offsetData[(2 * field + 1) * L + l] = Coordinate(rng, c.W) - (ox * c.Stride.W - c.Padding.W + j * c.Dilation.W);
            }
        var input = Tensor<T>.Randn(seed + 1, c.N, c.C, c.H, c.W);
        var offset = Tensor<T>.FromArray(offsetData.Select(T.CreateChecked).ToArray(), c.N, 2 * c.OffsetGroups * k, c.OutH, c.OutW);
        var weight = Tensor<T>.Randn(seed + 2, c.O, c.C / c.Groups, c.Kh, c.Kw);
        var bias = c.Bias ? Tensor<T>.Randn(seed + 3, c.O) : null;
        var mask = c.Mask ? Tensor<T>.Rand(seed + 4, c.N, c.OffsetGroups * k, c.OutH, c.OutW) : null;
        foreach (var leaf in new[] { input, offset, weight, bias, mask })
            if (leaf is not null) leaf.RequiresGrad = true;
        var output = EnginePaths.Run(reference, () =>
        {
            var y = Functional.DeformConv2d(input, offset, weight, bias, c.Stride, c.Padding, c.Dilation, mask);
            y.Backward(Tensor<T>.Randn(seed + 5, y.Shape));
            return y;
        });
        return [("output", output.ToArray()), ("grad input", input.Grad!.ToArray()), ("grad offset", offset.Grad!.ToArray()),
            ("grad weight", weight.Grad!.ToArray()), ("grad bias", bias?.Grad!.ToArray()), ("grad mask", mask?.Grad!.ToArray())];
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void DeformConv2d_RandomValidConfiguration_FastMatchesReference(int seed)
    {
        var config = MakeDeformConfig(new SeededRandom(7000 + seed));
        if (seed % 2 == 0)
            ResultArrays.AssertClose(RunDeform<double>(config, seed, true), RunDeform<double>(config, seed, false), DoubleTolerance, config.ToString());
        else
            ResultArrays.AssertClose(RunDeform<float>(config, seed, true), RunDeform<float>(config, seed, false), FloatTolerance, config.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Conv2d_RandomValidConfiguration_FastMatchesReference(int seed)
    {
        var c = MakeDeformConfig(new SeededRandom(8000 + seed));
        // Every fourth a pointwise convolution, which the fast path multiplies without columns.
        if (seed % 4 == 0) c = c with { Kh = 1, Kw = 1, Stride = (1, 1), Padding = (0, 0) };
        (string, double[]?)[] Run(bool reference)
        {
            var input = Tensor<double>.Randn(seed + 1, c.N, c.C, c.H, c.W);
            var weight = Tensor<double>.Randn(seed + 2, c.O, c.C / c.Groups, c.Kh, c.Kw);
            var bias = c.Bias ? Tensor<double>.Randn(seed + 3, c.O) : null;
            input.RequiresGrad = weight.RequiresGrad = true;
            if (bias is not null) bias.RequiresGrad = true;
            var output = EnginePaths.Run(reference, () =>
            {
                var y = Functional.Conv2d(input, weight, bias, c.Stride, c.Padding, c.Dilation, c.Groups);
                y.Backward(Tensor<double>.Randn(seed + 5, y.Shape));
                return y;
            });
            return [("output", output.ToArray()), ("grad input", input.Grad!.ToArray()), ("grad weight", weight.Grad!.ToArray()),
                ("grad bias", bias?.Grad!.ToArray())];
        }
        ResultArrays.AssertClose(Run(true), Run(false), DoubleTolerance, c.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void BilinearSample_RandomPoints_MatchesDeformConv2dReference(int seed)
    {
        // out[n, c, (oy, ox)] of a 1×1 depthwise identity DeformConv2d samples at (oy + Δy, ox + Δx).
        var rng = new SeededRandom(9000 + seed);
        int n = new[] { 0, 1, 2 }[rng.NextInt(3)], c = 1 + rng.NextInt(3), h = 1 + rng.NextInt(5), w = 1 + rng.NextInt(5), p = h * w;
        var coords = new double[n * p * 2];
        var offsets = new double[n * 2 * p];
        for (int b = 0; b < n; b++)
            for (int l = 0; l < p; l++)
            {
                double y = Coordinate(rng, h), x = Coordinate(rng, w);
                coords[(b * p + l) * 2] = y;
                coords[(b * p + l) * 2 + 1] = x;
                offsets[(b * 2) * p + l] = y - l / w;
                offsets[(b * 2 + 1) * p + l] = x - l % w;
            }
        var input = Tensor<double>.Randn(seed, n, c, h, w);
        var upstream = Tensor<double>.Randn(seed + 1, n, c, p);
        var sampleInput = input.Clone();
        var coordTensor = Tensor<double>.FromArray(coords, n, p, 2);
        sampleInput.RequiresGrad = coordTensor.RequiresGrad = true;
        var sampled = Functional.BilinearSample(sampleInput, coordTensor);
        sampled.Backward(upstream);

        var convInput = input.Clone();
        var offset = Tensor<double>.FromArray(offsets, n, 2, h, w);
        convInput.RequiresGrad = offset.RequiresGrad = true;
        var convolved = EnginePaths.Run(true, () =>
        {
            var y = Functional.DeformConv2d(convInput, offset, Tensor<double>.Ones(c, 1, 1, 1));
            y.Backward(upstream.Reshape(n, c, h, w));
            return y;
        });
        var gradOffset = offset.Grad!.ToArray();
        var gradCoords = new double[coords.Length];
        for (int b = 0; b < n; b++)
            for (int l = 0; l < p; l++)
            {
                gradCoords[(b * p + l) * 2] = gradOffset[(b * 2) * p + l];
                gradCoords[(b * p + l) * 2 + 1] = gradOffset[(b * 2 + 1) * p + l];
            }
        ResultArrays.AssertClose<double>(
            [("output", convolved.ToArray()), ("grad input", convInput.Grad!.ToArray()), ("grad coords", gradCoords)],
            [("output", sampled.ToArray()), ("grad input", sampleInput.Grad!.ToArray()), ("grad coords", coordTensor.Grad!.ToArray())],
            IdentityTolerance, $"seed {seed}: N{n} C{c} {h}x{w}");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Pools_RandomValidWindows_MatchPlainLoops(int seed)
    {
        var rng = new SeededRandom(10000 + seed);
        int n = new[] { 0, 1, 2 }[rng.NextInt(3)], c = 1 + rng.NextInt(3), h = 1 + rng.NextInt(6), w = 1 + rng.NextInt(6);
        // Kernels up to the padded input, sometimes 2^30; strides up to int.MaxValue.
        (int H, int W) kernel = rng.NextInt(5) == 0 ? (1 << 30, 1 + rng.NextInt(w)) : (1 + rng.NextInt(h), 1 + rng.NextInt(w));
        (int H, int W) padding = (rng.NextInt(kernel.H / 2 + 1), rng.NextInt(kernel.W / 2 + 1));
        if ((long)h + 2L * padding.H < kernel.H) padding = (kernel.H / 2, padding.W);
        if ((long)h + 2L * padding.H < kernel.H) kernel = (h, kernel.W);
        (int H, int W) stride = rng.NextInt(6) == 0 ? (int.MaxValue, 1) : (1 + rng.NextInt(3), 1 + rng.NextInt(3));
        bool includePad = rng.NextInt(2) == 0;
        var input = Tensor<double>.Randn(seed, n, c, h, w);
        var x = input.ToArray();
        int outH = (int)((h + 2L * padding.H - kernel.H) / stride.H + 1), outW = (int)((w + 2L * padding.W - kernel.W) / stride.W + 1);
        var expectedMax = new double[n * c * outH * outW];
        var expectedAvg = new double[expectedMax.Length];
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    double best = double.NegativeInfinity, sum = 0;
                    int count = 0;
                    for (int y = 0; y < h; y++)
                        for (int xx = 0; xx < w; xx++)
                        {
                            long dy = y - ((long)oy * stride.H - padding.H), dx = xx - ((long)ox * stride.W - padding.W);
                            if (dy < 0 || dy >= kernel.H || dx < 0 || dx >= kernel.W) continue;
                            double v = x[(plane * h + y) * w + xx];
                            best = Math.Max(best, v);
                            sum += v;
                            count++;
                        }
                    int at = (plane * outH + oy) * outW + ox;
                    expectedMax[at] = best;
                    expectedAvg[at] = sum / (includePad ? (double)kernel.H * kernel.W : count);
                }
        string what = $"seed {seed}: N{n} C{c} {h}x{w} k{kernel} s{stride} p{padding}";
        ResultArrays.AssertClose<double>([("max", expectedMax), ("avg", expectedAvg)],
            [("max", Functional.MaxPool2d(input, kernel, stride, padding).ToArray()),
             ("avg", Functional.AvgPool2d(input, kernel, stride, padding, includePad).ToArray())], IdentityTolerance, what);

        (int H, int W) bins = (1 + rng.NextInt(2 * h), 1 + rng.NextInt(2 * w));
        var expectedAdaptive = new double[n * c * bins.H * bins.W];
        for (int plane = 0; plane < n * c; plane++)
            for (int oy = 0; oy < bins.H; oy++)
                for (int ox = 0; ox < bins.W; ox++)
                {
                    int y0 = oy * h / bins.H, y1 = (int)Math.Ceiling((oy + 1) * (double)h / bins.H);
                    int x0 = ox * w / bins.W, x1 = (int)Math.Ceiling((ox + 1) * (double)w / bins.W);
                    double sum = 0;
                    for (int y = y0; y < y1; y++)
                        for (int xx = x0; xx < x1; xx++) sum += x[(plane * h + y) * w + xx];
                    expectedAdaptive[(plane * bins.H + oy) * bins.W + ox] = sum / ((y1 - y0) * (x1 - x0));
                }
        ResultArrays.AssertClose<double>([("adaptive", expectedAdaptive)],
            [("adaptive", Functional.AdaptiveAvgPool2d(input, bins).ToArray())], IdentityTolerance, $"{what} bins {bins}");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void RoIFamily_RandomRois_IdentitiesHold(int seed)
    {
        // DeformRoIPool without offsets is aligned RoIAlign; ModulatedDeformRoIPool with a mask of ones
        // is DeformRoIPool; both for values and input gradients, with huge offsets and zero RoIs.
        var rng = new SeededRandom(11000 + seed);
        int n = 1 + rng.NextInt(2), c = 1 + rng.NextInt(3), h = 1 + rng.NextInt(6), w = 1 + rng.NextInt(6), k = rng.NextInt(4);
        (int H, int W) bins = (1 + rng.NextInt(3), 1 + rng.NextInt(3));
        int samplingRatio = rng.NextInt(3) - 1;
        double scale = new[] { 1.0, 0.5, 0.25 }[rng.NextInt(3)];
        var rois = new double[k * 5];
        for (int r = 0; r < k; r++)
        {
            double x1 = rng.NextNormal() * 3 + w / 2.0, y1 = rng.NextNormal() * 3 + h / 2.0;
            double[] row = [rng.NextInt(n), x1, y1, x1 + Math.Abs(rng.NextNormal() * 4), y1 + Math.Abs(rng.NextNormal() * 4)];
            row.CopyTo(rois, r * 5);
        }
        var roiTensor = Tensor<double>.FromArray(rois, k, 5);
        var offsetData = Enumerable.Range(0, k * 2 * bins.H * bins.W)
            .Select(_ => rng.NextInt(6) == 0 ? 1e6 * rng.NextNormal() : rng.NextNormal()).ToArray();
        var offset = Tensor<double>.FromArray(offsetData, k, 2, bins.H, bins.W);
        var input = Tensor<double>.Randn(seed, n, c, h, w);
        var upstream = Tensor<double>.Randn(seed + 1, k, c, bins.H, bins.W);

        double[][] Run(Func<Tensor<double>, Tensor<double>> op)
        {
            var leaf = input.Clone();
            leaf.RequiresGrad = true;
            var y = op(leaf);
            y.Backward(upstream);
            return [y.ToArray(), leaf.Grad!.ToArray()];
        }
        var align = Run(x => Functional.RoIAlign(x, roiTensor, bins, scale, samplingRatio, aligned: true));
        var deformNone = Run(x => Functional.DeformRoIPool(x, roiTensor, null, bins, scale, samplingRatio));
        var deform = Run(x => Functional.DeformRoIPool(x, roiTensor, offset, bins, scale, samplingRatio, 0.1));
        var modulated = Run(x => Functional.ModulatedDeformRoIPool(x, roiTensor, offset, Tensor<double>.Ones(k, 1, bins.H, bins.W), bins, scale, samplingRatio, 0.1));
        string what = $"seed {seed}: N{n} C{c} {h}x{w} K{k} bins {bins} sr {samplingRatio} scale {scale}";
        ResultArrays.AssertClose<double>([("value", align[0]), ("grad", align[1])], [("value", deformNone[0]), ("grad", deformNone[1])],
            IdentityTolerance, $"{what}: DeformRoIPool(no offset) vs RoIAlign(aligned)");
        ResultArrays.AssertClose<double>([("value", deform[0]), ("grad", deform[1])], [("value", modulated[0]), ("grad", modulated[1])],
            IdentityTolerance, $"{what}: ModulatedDeformRoIPool(mask 1) vs DeformRoIPool");
    }

    /// <summary>The operators without a second path, by central differences in double on small random
    /// configurations (coordinates kept off the integer kinks).</summary>
    [TestMethod]
    [DataRow(0)]
    [DataRow(1)]
    [DataRow(2)]
    [DataRow(3)]
    public void RemainingOperators_RandomSmallConfiguration_PassGradCheck(int seed)
    {
        var rng = new SeededRandom(12000 + seed);
        int n = 1 + rng.NextInt(3), c = 1 + rng.NextInt(3), h = 2 + rng.NextInt(3), w = 2 + rng.NextInt(3);
        int[] labels = Enumerable.Range(0, n).Select(_ => rng.NextInt(c)).ToArray();
        var reduction = (Reduction)rng.NextInt(3);
        var rois = Tensor<double>.FromArray([0, 0.3, 0.2, w - 1.2, h - 0.9], 1, 5);
        var checks = new (string Name, Func<Tensor<double>[], Tensor<double>> Function, Tensor<double>[] Inputs)[]
        {
            ("Linear", x => Functional.Linear(x[0], x[1], x[2]), [Tensor<double>.Randn(seed, n, w), Tensor<double>.Randn(seed + 1, c, w), Tensor<double>.Randn(seed + 2, c)]),
            ("BatchNorm2d", x => Functional.BatchNorm2d(x[0], null, null, x[1], x[2], training: true),
                [Tensor<double>.Randn(seed, n, c, h, w), Tensor<double>.Randn(seed + 1, c), Tensor<double>.Randn(seed + 2, c)]),
            ("CrossEntropy", x => Functional.CrossEntropy(x[0], labels, reduction), [Tensor<double>.Randn(seed, n, c)]),
            ("MseLoss", x => Functional.MseLoss(x[0], x[1], reduction), [Tensor<double>.Randn(seed, n, c), Tensor<double>.Randn(seed + 1, n, c)]),
            ("CosineMimicLoss", x => Functional.CosineMimicLoss(x[0], x[1], reduction), [Tensor<double>.Randn(seed, n, c + 1), Tensor<double>.Randn(seed + 1, n, c + 1)]),
            ("PSRoIAlign", x => Functional.PSRoIAlign(x[0], rois, (1, 2), 1.0, 2), [Tensor<double>.Randn(seed, 1, 2 * c, h, w)]),
            ("DeformPSRoIPool", x => Functional.DeformPSRoIPool(x[0], rois, x[1], 1.0, c, 1, 2, 2, 2, 0.1),
                [Tensor<double>.Randn(seed, 1, c, h, w), GradCheck.KeepOffIntegers(Tensor<double>.Randn(seed + 1, 1, 2, 2, 2).MulScalar(0.3))]),
        };
        foreach (var (name, function, inputs) in checks)
        {
            var result = GradCheck.Check(function, inputs);
            Assert.IsTrue(result.Passed, $"seed {seed} {name}: {result}");
        }
    }
}

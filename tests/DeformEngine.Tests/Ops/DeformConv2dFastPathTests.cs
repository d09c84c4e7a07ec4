using DeformEngine.Kernels;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>The fast CPU path of DeformConv2d against the reference path (the oracle), its
/// thread-count determinism and its workspace bound.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class DeformConv2dFastPathTests
{
    // Both paths sum the same products in a different order (chunked GEMM, per-corner channel sums
    // combined afterwards, fused multiply-adds): a few ulps per term over at most ~10³ terms.
    private const double FloatTolerance = 1e-4;
    private const double DoubleTolerance = 1e-12;
    private const int RandomConfigurations = 60;

    public sealed record Config(int Seed, int N, int C, int O, int H, int W, int Kh, int Kw, (int H, int W) Stride,
        (int H, int W) Padding, (int H, int W) Dilation, int Groups, int OffsetGroups, bool Mask, bool Bias)
    {
        public int OutH => OutLength(H + 2 * Padding.H - Dilation.H * (Kh - 1) - 1, Stride.H);
        public int OutW => OutLength(W + 2 * Padding.W - Dilation.W * (Kw - 1) - 1, Stride.W);

        // A floor, as PyTorch: a kernel one past the input has no window even with stride 2.
        private static int OutLength(int span, int stride) => span < 0 ? 0 : span / stride + 1;

        public override string ToString() =>
            $"seed {Seed}: N{N} C{C}->{O} {H}x{W} k{Kh}x{Kw} s{Stride} p{Padding} d{Dilation} groups {Groups} offset groups {OffsetGroups} mask {Mask} bias {Bias}";
    }

    /// <summary>A random geometry: kernels 1, 2, 3, 5 (not necessarily square), stride and dilation
    /// 1–2, padding 0–2, odd sizes, groups and offset groups up to 3 and 4; every seventh a batch of 33.</summary>
    public static Config MakeConfig(int seed)
    {
        var rng = new SeededRandom(1000 + seed);
        int[] kernels = [1, 2, 3, 5];
        while (true)
        {
            int groups = 1 + rng.NextInt(3), offsetGroups = new[] { 1, 2, 4 }[rng.NextInt(3)];
            int lcm = groups * offsetGroups / Gcd(groups, offsetGroups);
            var config = new Config(seed,
                N: seed % 7 == 3 ? 33 : 1 + rng.NextInt(3),
                C: lcm * (1 + rng.NextInt(3)), O: groups * (1 + rng.NextInt(3)),
                H: 3 + rng.NextInt(9), W: 3 + rng.NextInt(9),
                Kh: kernels[rng.NextInt(4)], Kw: kernels[rng.NextInt(4)],
                Stride: (1 + rng.NextInt(2), 1 + rng.NextInt(2)), Padding: (rng.NextInt(3), rng.NextInt(3)),
                Dilation: (1 + rng.NextInt(2), 1 + rng.NextInt(2)), Groups: groups, OffsetGroups: offsetGroups,
                Mask: rng.NextInt(4) != 0, Bias: rng.NextInt(2) == 0);
            if (config.OutH >= 1 && config.OutW >= 1) return config;
        }
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, RandomConfigurations).Select(s => new object[] { s });

    /// <summary>Output and gradients of one call, as arrays (null where not requested).</summary>
    private sealed record Results<T>(T[] Output, T[]? Input, T[]? Offset, T[]? Weight, T[]? Bias, T[]? Mask)
    {
        public (string, T[]?)[] Named => [("output", Output), ("grad input", Input), ("grad offset", Offset),
            ("grad weight", Weight), ("grad bias", Bias), ("grad mask", Mask)];
    }

    private static Results<T> Run<T>(Config c, bool reference, bool[]? requires = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long s = 17 * c.Seed;
        var input = Tensor<T>.Randn(s + 1, c.N, c.C, c.H, c.W);
        // Scale 2: many sampling points cross the border or leave the image.
        var offset = Tensor<T>.Randn(s + 2, c.N, 2 * c.OffsetGroups * c.Kh * c.Kw, c.OutH, c.OutW).MulScalar(T.CreateChecked(2.0));
        var weight = Tensor<T>.Randn(s + 3, c.O, c.C / c.Groups, c.Kh, c.Kw);
        var bias = c.Bias ? Tensor<T>.Randn(s + 4, c.O) : null;
        var mask = c.Mask ? Tensor<T>.Rand(s + 5, c.N, c.OffsetGroups * c.Kh * c.Kw, c.OutH, c.OutW) : null;
        Tensor<T>?[] leaves = [input, offset, weight, bias, mask];
        for (int i = 0; i < leaves.Length; i++)
            if (leaves[i] is { } leaf) leaf.RequiresGrad = requires?[i] ?? true;
        bool saved = EngineOptions.UseReferenceKernels;
        try
        {
            EngineOptions.UseReferenceKernels = reference;
            var output = Functional.DeformConv2d(input, offset, weight, bias, c.Stride, c.Padding, c.Dilation, mask);
            output.Backward(Tensor<T>.Randn(s + 6, output.Shape));
            return new Results<T>(output.ToArray(), input.Grad?.ToArray(), offset.Grad?.ToArray(), weight.Grad?.ToArray(),
                bias?.Grad?.ToArray(), mask?.Grad?.ToArray());
        }
        finally
        {
            EngineOptions.UseReferenceKernels = saved;
        }
    }

    private static void AssertClose<T>(Results<T> expected, Results<T> actual, double tolerance, string what)
        where T : unmanaged, IFloatingPointIeee754<T> => ResultArrays.AssertClose(expected.Named, actual.Named, tolerance, what);

    private static void AssertBitwise<T>(Results<T> expected, Results<T> actual, string what)
        where T : unmanaged, IFloatingPointIeee754<T> => ResultArrays.AssertBitwise(expected.Named, actual.Named, what);

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void FastPath_RandomConfigurationFloat_MatchesReference(int seed)
    {
        var config = MakeConfig(seed);
        AssertClose(Run<float>(config, reference: true), Run<float>(config, reference: false), FloatTolerance, config.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void FastPath_RandomConfigurationDouble_MatchesReference(int seed)
    {
        var config = MakeConfig(seed);
        AssertClose(Run<double>(config, reference: true), Run<double>(config, reference: false), DoubleTolerance, config.ToString());
    }

    [TestMethod]
    [DataRow(true, false, false, false, false, DisplayName = "input only")]
    [DataRow(false, true, false, false, false, DisplayName = "offset only")]
    [DataRow(false, false, true, false, false, DisplayName = "weight only")]
    [DataRow(false, false, false, false, true, DisplayName = "mask only")]
    [DataRow(true, false, true, true, false, DisplayName = "input, weight, bias")]
    [DataRow(false, true, false, false, true, DisplayName = "offset and mask")]
    public void FastPath_SubsetOfGradients_MatchesReference(bool input, bool offset, bool weight, bool bias, bool mask)
    {
        bool[] requires = [input, offset, weight, bias, mask];
        foreach (int seed in new[] { 1, 4, 10, 23 })
        {
            var config = MakeConfig(seed) with { Mask = true, Bias = true };
            AssertClose(Run<double>(config, true, requires), Run<double>(config, false, requires), DoubleTolerance, config.ToString());
        }
    }

    [TestMethod]
    public void FastPath_OneAndTwoThreads_BitwiseIdenticalAcrossRuns()
    {
        var configs = new[]
        {
            new Config(101, 4, 16, 8, 20, 19, 3, 3, (1, 1), (1, 1), (1, 1), 2, 2, true, true),
            new Config(102, 33, 6, 4, 9, 7, 2, 3, (2, 1), (1, 0), (1, 2), 1, 3, true, false),
        };
        int savedThreads = EngineOptions.Threads;
        try
        {
            foreach (var config in configs)
            {
                EngineOptions.Threads = 1;
                var oneFloat = Run<float>(config, false);
                var oneDouble = Run<double>(config, false);
                EngineOptions.Threads = 2;
                AssertBitwise(oneFloat, Run<float>(config, false), $"float 1 vs 2 threads, {config}");
                AssertBitwise(oneDouble, Run<double>(config, false), $"double 1 vs 2 threads, {config}");
                AssertBitwise(Run<float>(config, false), Run<float>(config, false), $"float, two runs, {config}");
            }
        }
        finally
        {
            EngineOptions.Threads = savedThreads;
        }
    }

    [TestMethod]
    public void FastPath_LargeBatchTinyWorkspace_MatchesReferenceWithinBudget()
    {
        var config = new Config(201, 40, 2, 3, 7, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true);
        long savedBudget = EngineOptions.WorkspaceBytes;
        try
        {
            EngineOptions.WorkspaceBytes = 1 << 16;
            var dp = new DeformConv2dParams(new Conv2dParams(config.N, config.C, config.H, config.W, config.O, config.Kh, config.Kw,
                config.Stride, config.Padding, config.Dilation, config.Groups), config.OffsetGroups, config.Mask);
            // The plans the fast backend takes for this call's forward and full backward.
            var forward = DeformConv2dWorkspace.ForForward(dp, sizeof(double));
            var backward = DeformConv2dWorkspace.ForBackward(dp, sizeof(double), gradInput: true, gradOffsetOrMask: true, gradWeight: true);
            foreach (var plan in new[] { forward, backward })
            {
                Assert.IsTrue(plan.Bytes <= EngineOptions.WorkspaceBytes, $"plan of {plan.Bytes} bytes exceeds the budget");
                Assert.IsTrue(plan.ScratchLength * sizeof(double) + plan.TableLength * sizeof(int) <= plan.Bytes, "plan undercounts its scratch");
                Assert.IsTrue(plan.ChunkImages < config.N && plan.Chunks > 1, $"expected several chunks, got {plan.ChunkImages} images × {plan.Chunks}");
            }
            var fast = Run<double>(config, reference: false);
            AssertClose(Run<double>(config, reference: true), fast, DoubleTolerance, "batch 40 in a 64 KiB workspace");
        }
        finally
        {
            EngineOptions.WorkspaceBytes = savedBudget;
        }
    }

    [TestMethod]
    public void FastPath_NonFiniteInputPixel_ReachesOnlyTheSamplesThatReadIt()
    {
        // Samples outside the image, or whose corners miss the pixel, must stay finite as in the reference.
        var config = new Config(301, 2, 3, 2, 6, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, false);
        var input = Tensor<double>.Randn(302, config.N, config.C, config.H, config.W);
        input[0, 1, 0, 0] = double.PositiveInfinity;
        input[1, 2, 5, 6] = double.NaN;
        var offset = Tensor<double>.Randn(303, config.N, 18, config.OutH, config.OutW).MulScalar(3.0);
        var weight = Tensor<double>.Randn(304, config.O, config.C, 3, 3);
        var mask = Tensor<double>.Rand(305, config.N, 9, config.OutH, config.OutW);
        double[] Forward(bool reference)
        {
            bool saved = EngineOptions.UseReferenceKernels;
            EngineOptions.UseReferenceKernels = reference;
            try { return Functional.DeformConv2d(input, offset, weight, null, (1, 1), (1, 1), (1, 1), mask).ToArray(); }
            finally { EngineOptions.UseReferenceKernels = saved; }
        }
        var expected = Forward(true);
        var actual = Forward(false);
        Assert.IsTrue(expected.Any(double.IsFinite) && expected.Any(v => !double.IsFinite(v)), "the case should mix finite and non-finite outputs");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(double.IsFinite(expected[i]), double.IsFinite(actual[i]), $"finiteness of output {i}: {expected[i]} vs {actual[i]}");
            if (double.IsFinite(expected[i])) Assert.AreEqual(expected[i], actual[i], 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"output {i}");
        }
    }
}

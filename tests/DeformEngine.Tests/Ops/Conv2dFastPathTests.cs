using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>The fast CPU path of Conv2d (chunked im2col + GEMM, pointwise shortcut) against the
/// reference path, its thread-count determinism and its workspace bound.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class Conv2dFastPathTests
{
    private const double FloatTolerance = 1e-4;
    private const double DoubleTolerance = 1e-12;
    private const int RandomConfigurations = 60;

    public sealed record Config(int Seed, int N, int C, int O, int H, int W, int Kh, int Kw, (int H, int W) Stride,
        (int H, int W) Padding, (int H, int W) Dilation, int Groups, bool Bias)
    {
        public int OutH => OutLength(H + 2 * Padding.H - Dilation.H * (Kh - 1) - 1, Stride.H);
        public int OutW => OutLength(W + 2 * Padding.W - Dilation.W * (Kw - 1) - 1, Stride.W);

        // A floor, as PyTorch: a kernel one past the input has no window even with stride 2.
        private static int OutLength(int span, int stride) => span < 0 ? 0 : span / stride + 1;

        public override string ToString() =>
            $"seed {Seed}: N{N} C{C}->{O} {H}x{W} k{Kh}x{Kw} s{Stride} p{Padding} d{Dilation} groups {Groups} bias {Bias}";
    }

    /// <summary>Kernels 1, 2, 3, 5 (not necessarily square), stride and dilation 1–2, padding 0–2, odd
    /// sizes, groups up to 3; every seventh a batch of 33; every fifth a pointwise (1×1, stride 1, no padding) one.</summary>
    public static Config MakeConfig(int seed)
    {
        var rng = new SeededRandom(5000 + seed);
        int[] kernels = [1, 2, 3, 5];
        while (true)
        {
            int groups = 1 + rng.NextInt(3);
            var config = new Config(seed,
                N: seed % 7 == 3 ? 33 : 1 + rng.NextInt(3),
                C: groups * (1 + rng.NextInt(3)), O: groups * (1 + rng.NextInt(3)),
                H: 3 + rng.NextInt(9), W: 3 + rng.NextInt(9),
                Kh: kernels[rng.NextInt(4)], Kw: kernels[rng.NextInt(4)],
                Stride: (1 + rng.NextInt(2), 1 + rng.NextInt(2)), Padding: (rng.NextInt(3), rng.NextInt(3)),
                Dilation: (1 + rng.NextInt(2), 1 + rng.NextInt(2)), Groups: groups, Bias: rng.NextInt(2) == 0);
            if (seed % 5 == 4) config = config with { Kh = 1, Kw = 1, Stride = (1, 1), Padding = (0, 0) };
            if (config.OutH >= 1 && config.OutW >= 1) return config;
        }
    }

    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, RandomConfigurations).Select(s => new object[] { s });

    private sealed record Results<T>(T[] Output, T[]? Input, T[]? Weight, T[]? Bias)
    {
        public (string, T[]?)[] Named => [("output", Output), ("grad input", Input), ("grad weight", Weight), ("grad bias", Bias)];
    }

    private static Results<T> Run<T>(Config c, bool reference, bool[]? requires = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long s = 13 * c.Seed;
        var input = Tensor<T>.Randn(s + 1, c.N, c.C, c.H, c.W);
        var weight = Tensor<T>.Randn(s + 2, c.O, c.C / c.Groups, c.Kh, c.Kw);
        var bias = c.Bias ? Tensor<T>.Randn(s + 3, c.O) : null;
        Tensor<T>?[] leaves = [input, weight, bias];
        for (int i = 0; i < leaves.Length; i++)
            if (leaves[i] is { } leaf) leaf.RequiresGrad = requires?[i] ?? true;
        bool saved = EngineOptions.UseReferenceKernels;
        try
        {
            EngineOptions.UseReferenceKernels = reference;
            var output = Functional.Conv2d(input, weight, bias, c.Stride, c.Padding, c.Dilation, c.Groups);
            output.Backward(Tensor<T>.Randn(s + 4, output.Shape));
            return new Results<T>(output.ToArray(), input.Grad?.ToArray(), weight.Grad?.ToArray(), bias?.Grad?.ToArray());
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
    [DataRow(true, false, false, DisplayName = "input only")]
    [DataRow(false, true, false, DisplayName = "weight only")]
    [DataRow(false, false, true, DisplayName = "bias only")]
    [DataRow(true, true, false, DisplayName = "input and weight")]
    public void FastPath_SubsetOfGradients_MatchesReference(bool input, bool weight, bool bias)
    {
        bool[] requires = [input, weight, bias];
        foreach (int seed in new[] { 1, 3, 4, 10 })
        {
            var config = MakeConfig(seed) with { Bias = true };
            AssertClose(Run<double>(config, true, requires), Run<double>(config, false, requires), DoubleTolerance, config.ToString());
        }
    }

    [TestMethod]
    public void FastPath_OneAndTwoThreads_BitwiseIdenticalAcrossRuns()
    {
        var configs = new[]
        {
            new Config(101, 4, 16, 8, 20, 19, 3, 3, (1, 1), (1, 1), (1, 1), 2, true),
            new Config(102, 33, 6, 4, 9, 7, 2, 3, (2, 1), (1, 0), (1, 2), 1, false),
            new Config(103, 5, 12, 10, 8, 9, 1, 1, (1, 1), (0, 0), (1, 1), 2, true),
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
    public void FastPath_LargeBatchTinyWorkspace_MatchesReference()
    {
        var config = new Config(201, 40, 2, 3, 7, 7, 3, 3, (1, 1), (1, 1), (1, 1), 1, true);
        long savedBudget = EngineOptions.WorkspaceBytes;
        try
        {
            EngineOptions.WorkspaceBytes = 1 << 16;
            var cp = new Conv2dParams(config.N, config.C, config.H, config.W, config.O, config.Kh, config.Kw,
                config.Stride, config.Padding, config.Dilation, config.Groups);
            foreach (int matrices in new[] { 1, 2 })
            {
                int images = CpuFastBackend.Conv2dChunkImages(cp, sizeof(double), matrices);
                long bytes = ((long)cp.OutChannels + matrices * cp.ColumnRows) * cp.ColumnCols * images * sizeof(double);
                Assert.IsTrue(images > 1 && images < config.N, $"expected several chunks of several images, got {images}");
                Assert.IsTrue(bytes <= EngineOptions.WorkspaceBytes, $"chunk of {bytes} bytes exceeds the budget");
            }
            AssertClose(Run<double>(config, reference: true), Run<double>(config, reference: false), DoubleTolerance, "batch 40 in a 64 KiB workspace");
            AssertClose(Run<float>(config, reference: true), Run<float>(config, reference: false), FloatTolerance, "float, batch 40 in a 64 KiB workspace");
        }
        finally
        {
            EngineOptions.WorkspaceBytes = savedBudget;
        }
    }
}

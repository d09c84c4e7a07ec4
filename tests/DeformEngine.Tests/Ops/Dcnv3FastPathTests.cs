using DeformEngine.Kernels;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>The fast CPU path of Dcnv3 and Dcnv4 against the reference loops (the oracle) on random
/// configurations, and its thread-count determinism.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class Dcnv3FastPathTests
{
    // Both paths sum the same products in another order (m·Σ_q g_q·v against Σ_q (m·g_q)·v, vector lanes
    // summed at the end): a few ulps per term over at most a few hundred terms.
    private const double FloatTolerance = 1e-4;
    private const double DoubleTolerance = 1e-12;
    private const int RandomConfigurations = 60;

    public sealed record Config(int Seed, int N, int H, int W, int Group, int GroupChannels, (int H, int W) Kernel,
        (int H, int W) Stride, (int H, int W) Padding, (int H, int W) Dilation, double OffsetScale, bool RemoveCenter)
    {
        public int OutH => (H + 2 * Padding.H - Dilation.H * (Kernel.H - 1) - 1) / Stride.H + 1;
        public int OutW => (W + 2 * Padding.W - Dilation.W * (Kernel.W - 1) - 1) / Stride.W + 1;
        public int Points => Kernel.H * Kernel.W - (RemoveCenter ? 1 : 0);
        public int Channels => Group * GroupChannels;

        public override string ToString() =>
            $"seed {Seed}: N{N} {H}x{W} G{Group}x{GroupChannels} k{Kernel} s{Stride} p{Padding} d{Dilation} scale {OffsetScale} remove centre {RemoveCenter}";
    }

    /// <summary>A random geometry: kernels 1, 2, 3, 5, stride and dilation 1–3, padding 0–2, group channels
    /// that exercise whole vectors, tails and both (1 … 33), up to 4 groups; every seventh a batch of 33.</summary>
    public static Config MakeConfig(int seed)
    {
        var rng = new SeededRandom(5000 + seed);
        int[] kernels = [1, 2, 3, 5];
        int[] groupChannels = [1, 3, 4, 8, 13, 16, 17, 32, 33];
        double[] scales = [0.5, 1.0, 1.5, 2.0];
        while (true)
        {
            int kh = kernels[rng.NextInt(4)], kw = rng.NextInt(3) == 0 ? kh : kernels[rng.NextInt(4)];
            bool batch33 = seed % 7 == 3;
            var config = new Config(seed,
                N: batch33 ? 33 : 1 + rng.NextInt(3),
                H: batch33 ? 1 + rng.NextInt(5) : 1 + rng.NextInt(12), W: batch33 ? 1 + rng.NextInt(5) : 1 + rng.NextInt(12),
                Group: 1 + rng.NextInt(4), GroupChannels: groupChannels[rng.NextInt(groupChannels.Length)],
                Kernel: (kh, kw), Stride: (1 + rng.NextInt(3), 1 + rng.NextInt(3)), Padding: (rng.NextInt(3), rng.NextInt(3)),
                Dilation: (1 + rng.NextInt(3), 1 + rng.NextInt(3)), OffsetScale: scales[rng.NextInt(4)],
                RemoveCenter: kh == kw && kh % 2 == 1 && kh > 1 && rng.NextInt(2) == 0);
            if (config.H + 2 * config.Padding.H >= config.Dilation.H * (kh - 1) + 1 &&
                config.W + 2 * config.Padding.W >= config.Dilation.W * (kw - 1) + 1) return config;
        }
    }

    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, RandomConfigurations).Select(s => new object[] { s });

    private sealed record Results<T>(T[] Output, T[]? Input, T[]? Offset, T[]? Mask)
    {
        public (string, T[]?)[] Named => [("output", Output), ("grad input", Input), ("grad offset", Offset), ("grad mask", Mask)];
    }

    private static Results<T> RunDcnv3<T>(Config c, bool reference, bool[]? requires = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long s = 31 * c.Seed;
        var input = Tensor<T>.Randn(s + 1, c.N, c.H, c.W, c.Channels);
        // Scale 2: many sampling points cross the border or leave the map.
        var offset = Tensor<T>.Randn(s + 2, c.N, c.OutH, c.OutW, c.Group * c.Points * 2).MulScalar(T.CreateChecked(2.0));
        var mask = Tensor<T>.Randn(s + 3, c.N, c.OutH, c.OutW, c.Group * c.Points);
        Tensor<T>[] leaves = [input, offset, mask];
        for (int i = 0; i < leaves.Length; i++) leaves[i].RequiresGrad = requires?[i] ?? true;
        return WithBackend(reference, () =>
        {
            var output = Functional.Dcnv3(input, offset, mask, c.Kernel, c.Stride, c.Padding, c.Dilation, c.Group, c.GroupChannels,
                c.OffsetScale, c.RemoveCenter);
            output.Backward(Tensor<T>.Randn(s + 4, output.Shape));
            return new Results<T>(output.ToArray(), input.Grad?.ToArray(), offset.Grad?.ToArray(), mask.Grad?.ToArray());
        });
    }

    private static Results<T> RunDcnv4<T>(Config c, bool reference) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long s = 37 * c.Seed;
        var input = Tensor<T>.Randn(s + 1, c.N, c.H, c.W, c.Channels);
        var offsetMask = Tensor<T>.Randn(s + 2, c.N, c.OutH, c.OutW, Dcnv4Params.PackedLength(c.Group, c.Points)).MulScalar(T.CreateChecked(2.0));
        input.RequiresGrad = offsetMask.RequiresGrad = true;
        return WithBackend(reference, () =>
        {
            var output = Functional.Dcnv4(input, offsetMask, c.Kernel, c.Stride, c.Padding, c.Dilation, c.Group, c.GroupChannels,
                c.OffsetScale, c.RemoveCenter);
            output.Backward(Tensor<T>.Randn(s + 4, output.Shape));
            return new Results<T>(output.ToArray(), input.Grad?.ToArray(), offsetMask.Grad?.ToArray(), null);
        });
    }

    private static TResult WithBackend<TResult>(bool reference, Func<TResult> run)
    {
        bool saved = EngineOptions.UseReferenceKernels;
        try
        {
            EngineOptions.UseReferenceKernels = reference;
            return run();
        }
        finally
        {
            EngineOptions.UseReferenceKernels = saved;
        }
    }

    private static void AssertClose<T>(Results<T> expected, Results<T> actual, double tolerance, string what)
        where T : unmanaged, IFloatingPointIeee754<T> => ResultArrays.AssertClose(expected.Named, actual.Named, tolerance, what);

    [TestMethod]
    public void MakeConfig_RandomConfigurations_CoverTheGeometry()
    {
        var configs = Enumerable.Range(0, RandomConfigurations).Select(MakeConfig).ToList();
        Assert.IsTrue(configs.Any(c => c.N == 33) && configs.Any(c => c.N == 1), "batches of 1 and 33");
        Assert.IsTrue(configs.Any(c => c.RemoveCenter), "removeCenter");
        Assert.IsTrue(configs.Any(c => c.Group > 1) && configs.Any(c => c.Stride.H > 1) && configs.Any(c => c.Dilation.W > 1)
            && configs.Any(c => c.Padding.H > 0), "groups, stride, dilation, padding");
        Assert.IsTrue(configs.Any(c => c.GroupChannels % 8 == 0) && configs.Any(c => c.GroupChannels > 8 && c.GroupChannels % 8 != 0),
            "whole vectors and vectors with a tail");
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Dcnv3FastPath_RandomConfigurationDouble_MatchesReference(int seed)
    {
        var config = MakeConfig(seed);
        AssertClose(RunDcnv3<double>(config, reference: true), RunDcnv3<double>(config, reference: false), DoubleTolerance, config.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Dcnv3FastPath_RandomConfigurationFloat_MatchesReference(int seed)
    {
        var config = MakeConfig(seed);
        AssertClose(RunDcnv3<float>(config, reference: true), RunDcnv3<float>(config, reference: false), FloatTolerance, config.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void Dcnv4FastPath_RandomConfigurationDouble_MatchesReference(int seed)
    {
        var config = MakeConfig(seed);
        AssertClose(RunDcnv4<double>(config, reference: true), RunDcnv4<double>(config, reference: false), DoubleTolerance, config.ToString());
    }

    [TestMethod]
    [DataRow(true, false, false, DisplayName = "input only")]
    [DataRow(false, true, false, DisplayName = "offset only")]
    [DataRow(false, false, true, DisplayName = "mask only")]
    [DataRow(false, true, true, DisplayName = "offset and mask")]
    public void Dcnv3FastPath_SubsetOfGradients_MatchesReference(bool input, bool offset, bool mask)
    {
        bool[] requires = [input, offset, mask];
        foreach (int seed in new[] { 2, 5, 11, 24 })
        {
            var config = MakeConfig(seed);
            AssertClose(RunDcnv3<double>(config, true, requires), RunDcnv3<double>(config, false, requires), DoubleTolerance, config.ToString());
        }
    }

    [TestMethod]
    public void Dcnv3FastPath_OneAndTwoThreads_BitwiseIdentical()
    {
        var configs = new[]
        {
            new Config(101, 2, 14, 13, 4, 16, (3, 3), (1, 1), (1, 1), (1, 1), 1.0, false),
            new Config(102, 33, 5, 6, 2, 13, (3, 3), (2, 1), (1, 0), (1, 2), 2.0, true),
        };
        int savedThreads = EngineOptions.Threads;
        try
        {
            foreach (var config in configs)
            {
                EngineOptions.Threads = 1;
                var oneFloat = RunDcnv3<float>(config, false);
                var oneDouble = RunDcnv3<double>(config, false);
                var oneDcnv4 = RunDcnv4<float>(config, false);
                EngineOptions.Threads = 2;
                ResultArrays.AssertBitwise(oneFloat.Named, RunDcnv3<float>(config, false).Named, $"float 1 vs 2 threads, {config}");
                ResultArrays.AssertBitwise(oneDouble.Named, RunDcnv3<double>(config, false).Named, $"double 1 vs 2 threads, {config}");
                ResultArrays.AssertBitwise(oneDcnv4.Named, RunDcnv4<float>(config, false).Named, $"Dcnv4 float 1 vs 2 threads, {config}");
                EngineOptions.Threads = 5;
                ResultArrays.AssertBitwise(oneFloat.Named, RunDcnv3<float>(config, false).Named, $"float 1 vs 5 threads, {config}");
            }
        }
        finally
        {
            EngineOptions.Threads = savedThreads;
        }
    }

    [TestMethod]
    public void Dcnv3FastPath_KernelCoveringTheMap_MatchesReference()
    {
        // 39×39 = 1521 points per position: the forward's per-task table is sized by the kernel, not fixed.
        var config = new Config(401, 1, 40, 40, 2, 3, (39, 39), (1, 1), (0, 0), (1, 1), 1.0, true);
        AssertClose(RunDcnv3<double>(config, reference: true), RunDcnv3<double>(config, reference: false), DoubleTolerance, config.ToString());
    }

    [TestMethod]
    public void Dcnv3FastPath_NonFiniteInputPixel_SameSamplesTurnNonFiniteAsReference()
    {
        var c = new Config(301, 2, 6, 7, 2, 9, (3, 3), (1, 1), (1, 1), (1, 1), 1.0, false);
        var input = Tensor<double>.Randn(302, c.N, c.H, c.W, c.Channels);
        input[0, 0, 0, 1] = double.PositiveInfinity;
        input[1, 5, 6, 12] = double.NaN;
        var offset = Tensor<double>.Randn(303, c.N, c.OutH, c.OutW, c.Group * c.Points * 2).MulScalar(3.0);
        var mask = Tensor<double>.Rand(304, c.N, c.OutH, c.OutW, c.Group * c.Points);
        double[] Forward(bool reference) => WithBackend(reference, () =>
            Functional.Dcnv3(input, offset, mask, c.Kernel, c.Stride, c.Padding, c.Dilation, c.Group).ToArray());
        var expected = Forward(true);
        var actual = Forward(false);
        Assert.IsTrue(expected.Any(double.IsNaN) || expected.Any(double.IsInfinity), "the bad pixels reach some sample");
        Assert.IsTrue(expected.Count(double.IsFinite) > expected.Length / 2, "most samples stay finite");
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(double.IsFinite(expected[i]), double.IsFinite(actual[i]), $"element {i}: {expected[i]} vs {actual[i]}");
    }

    /// <summary>The backward kernel writes every element of the input, offset and mask gradients (they are allocated
    /// uninitialised): destinations filled with NaN give bitwise the same gradients as zeroed ones, with offsets
    /// large enough that many sampling points leave the map (those write zeros), for groups of 16 and 32 channels
    /// (the register paths) and 3, on a batch of two; for DCNv4 with a padded packed row.</summary>
    [TestMethod]
    public void Backward_UninitialisedDestinations_EveryElementWritten()
    {
        foreach (int groupChannels in new[] { 3, 16, 32 })
        {
            var parameters = new Dcnv3Params(2, 9, 8, 3, groupChannels, (3, 3), (1, 1), (1, 1), (1, 1), 1.0, false);
            var fields = Dcnv3Fields.Dcnv3(parameters);
            var input = Tensor<float>.Randn(41, parameters.Batch, parameters.Height, parameters.Width, parameters.Channels).ToArray();
            var offset = Tensor<float>.Randn(42, parameters.Batch, parameters.OutH, parameters.OutW, parameters.Group * parameters.Points * 2)
                .MulScalar(6f).ToArray();
            var mask = Tensor<float>.Randn(43, parameters.Batch, parameters.OutH, parameters.OutW, parameters.Group * parameters.Points).ToArray();
            var upstream = Tensor<float>.Randn(44, parameters.Batch, parameters.OutH, parameters.OutW, parameters.Channels).ToArray();
            (float[] Input, float[] Offset, float[] Mask) Run(float fill)
            {
                var gradInput = Enumerable.Repeat(fill, input.Length).ToArray();
                var gradOffset = Enumerable.Repeat(fill, offset.Length).ToArray();
                var gradMask = Enumerable.Repeat(fill, mask.Length).ToArray();
                Dcnv3FastKernels.Backward(parameters, fields, upstream, input, offset, mask, gradInput, gradOffset, gradMask);
                return (gradInput, gradOffset, gradMask);
            }
            var zeroed = Run(0f);
            var poisoned = Run(float.NaN);
            Assert.IsTrue(zeroed.Offset.Count(v => v == 0f) > offset.Length / 10, "the offsets must carry many points off the map");
            CollectionAssert.AreEqual(zeroed.Input, poisoned.Input, $"grad input, Cg {groupChannels}");
            CollectionAssert.AreEqual(zeroed.Offset, poisoned.Offset, $"grad offset, Cg {groupChannels}");
            CollectionAssert.AreEqual(zeroed.Mask, poisoned.Mask, $"grad mask, Cg {groupChannels}");

            // DCNv4: offsets and weights packed into one row, 3·G·P = 81 entries padded to 88.
            var packedParameters = new Dcnv4Params(parameters, Dcnv4Params.PackedLength(parameters.Group, parameters.Points));
            Assert.AreEqual(88, packedParameters.OffsetMaskLength);
            var packed = Tensor<float>.Randn(45, packedParameters.OffsetMaskShape).MulScalar(6f).ToArray();
            float[] RunPacked(float fill)
            {
                var gradInput = Enumerable.Repeat(fill, input.Length).ToArray();
                var gradPacked = Enumerable.Repeat(fill, packed.Length).ToArray();
                Dcnv3FastKernels.Backward(parameters, Dcnv3Fields.Dcnv4(packedParameters), upstream, input, packed, packed, gradInput, gradPacked,
                    gradPacked);
                return [.. gradInput, .. gradPacked];
            }
            CollectionAssert.AreEqual(RunPacked(0f), RunPacked(float.NaN), $"DCNv4 grad input and grad offset_mask, Cg {groupChannels}");
        }
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>The fast CPU path of GridSample against the reference path (the oracle), and its thread-count
/// determinism.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class GridSampleFastPathTests
{
    // The grid gradient is summed per block of channels and the blocks added afterwards: a few ulps
    // over at most a few dozen channels.
    private const double FloatTolerance = 1e-5;
    private const double DoubleTolerance = 1e-12;
    private const int RandomConfigurations = 60;

    public sealed record Config(int Seed, int N, int C, int H, int W, int OutH, int OutW, GridSampleMode Mode, GridSamplePadding Padding,
        bool AlignCorners)
    {
        public override string ToString() => $"seed {Seed}: N{N} C{C} {H}x{W} -> {OutH}x{OutW} {Mode} {Padding} align {AlignCorners}";
    }

    /// <summary>Every mode, padding and align_corners in turn; 1–20 channels (blocks of 8 and a tail),
    /// 1–9 pixels a side; every seventh a batch of 33.</summary>
    public static Config MakeConfig(int seed)
    {
        var rng = new SeededRandom(7000 + seed);
        bool big = seed % 7 == 3;
        return new Config(seed, big ? 33 : 1 + rng.NextInt(3), 1 + rng.NextInt(big ? 3 : 20), 1 + rng.NextInt(9), 1 + rng.NextInt(9),
            1 + rng.NextInt(6), 1 + rng.NextInt(6), (GridSampleMode)(seed % 2), (GridSamplePadding)(seed / 2 % 3), seed / 6 % 2 == 1);
    }

    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, RandomConfigurations).Select(s => new object[] { s });

    private static (string, T[]?)[] Run<T>(Config c, bool reference, bool[]? requires = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long s = 23L * c.Seed;
        var input = Tensor<T>.Randn(s + 1, c.N, c.C, c.H, c.W);
        // U(−2.5, 2.5): inside, across the border and far enough out to reflect more than once.
        var grid = Tensor<T>.Rand(s + 2, c.N, c.OutH, c.OutW, 2).MulScalar(T.CreateChecked(5.0)).AddScalar(T.CreateChecked(-2.5));
        input.RequiresGrad = requires?[0] ?? true;
        grid.RequiresGrad = requires?[1] ?? true;
        var output = Backends.With(reference, () =>
        {
            var result = Functional.GridSample(input, grid, c.Mode, c.Padding, c.AlignCorners);
            result.Backward(Tensor<T>.Randn(s + 3, result.Shape));
            return result;
        });
        return [("output", output.ToArray()), ("grad input", input.Grad?.ToArray()), ("grad grid", grid.Grad?.ToArray())];
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void FastPath_RandomConfigurationFloat_MatchesReference(int seed)
    {
        var config = MakeConfig(seed);
        ResultArrays.AssertClose(Run<float>(config, true), Run<float>(config, false), FloatTolerance, config.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void FastPath_RandomConfigurationDouble_MatchesReference(int seed)
    {
        var config = MakeConfig(seed);
        ResultArrays.AssertClose(Run<double>(config, true), Run<double>(config, false), DoubleTolerance, config.ToString());
    }

    [TestMethod]
    [DataRow(true, false, DisplayName = "input only")]
    [DataRow(false, true, DisplayName = "grid only")]
    public void FastPath_SubsetOfGradients_MatchesReference(bool input, bool grid)
    {
        foreach (int seed in new[] { 0, 1, 4, 9 })
        {
            var config = MakeConfig(seed);
            ResultArrays.AssertClose(Run<double>(config, true, [input, grid]), Run<double>(config, false, [input, grid]), DoubleTolerance,
                config.ToString());
        }
    }

    [TestMethod]
    public void FastPath_OneTwoAndFiveThreads_BitwiseIdentical()
    {
        var configs = new[]
        {
            new Config(101, 3, 21, 17, 13, 9, 11, GridSampleMode.Bilinear, GridSamplePadding.Reflection, false),
            new Config(102, 33, 5, 6, 7, 4, 3, GridSampleMode.Nearest, GridSamplePadding.Zeros, true),
        };
        int savedThreads = EngineOptions.Threads;
        try
        {
            foreach (var config in configs)
            {
                EngineOptions.Threads = 1;
                var oneFloat = Run<float>(config, false);
                var oneDouble = Run<double>(config, false);
                foreach (int threads in new[] { 2, 5 })
                {
                    EngineOptions.Threads = threads;
                    ResultArrays.AssertBitwise(oneFloat, Run<float>(config, false), $"float 1 vs {threads} threads, {config}");
                    ResultArrays.AssertBitwise(oneDouble, Run<double>(config, false), $"double 1 vs {threads} threads, {config}");
                }
            }
        }
        finally
        {
            EngineOptions.Threads = savedThreads;
        }
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>The fast CPU path of MultiScaleDeformableAttention against the reference path (the oracle),
/// and its thread-count determinism.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class MultiScaleDeformableAttentionFastPathTests
{
    // Both paths add the same products in different orders (fused multiply-adds, per-corner channel
    // sums combined afterwards): a few ulps over at most ~10³ terms.
    private const double FloatTolerance = 1e-5;
    private const double DoubleTolerance = 1e-12;
    private const int RandomConfigurations = 60;

    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, RandomConfigurations).Select(s => new object[] { s });

    private static (string, T[]?)[] Run<T>(AttentionConfig config, bool reference, bool[]? requires = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (value, locations, weights) = config.Inputs<T>();
        Tensor<T>[] leaves = [value, locations, weights];
        for (int i = 0; i < leaves.Length; i++) leaves[i].RequiresGrad = requires?[i] ?? true;
        var output = Backends.With(reference, () =>
        {
            var result = config.Run(value, locations, weights);
            result.Backward(Tensor<T>.Randn(31L * config.Seed + 4, result.Shape));
            return result;
        });
        return [("output", output.ToArray()), ("grad value", value.Grad?.ToArray()), ("grad locations", locations.Grad?.ToArray()),
            ("grad weights", weights.Grad?.ToArray())];
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void FastPath_RandomConfigurationFloat_MatchesReference(int seed)
    {
        var config = AttentionConfig.Random(seed);
        ResultArrays.AssertClose(Run<float>(config, true), Run<float>(config, false), FloatTolerance, config.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Seeds))]
    public void FastPath_RandomConfigurationDouble_MatchesReference(int seed)
    {
        var config = AttentionConfig.Random(seed);
        ResultArrays.AssertClose(Run<double>(config, true), Run<double>(config, false), DoubleTolerance, config.ToString());
    }

    [TestMethod]
    [DataRow(true, false, false, DisplayName = "value only")]
    [DataRow(false, true, false, DisplayName = "locations only")]
    [DataRow(false, false, true, DisplayName = "weights only")]
    [DataRow(false, true, true, DisplayName = "locations and weights")]
    public void FastPath_SubsetOfGradients_MatchesReference(bool value, bool locations, bool weights)
    {
        foreach (int seed in new[] { 2, 5, 11 })
        {
            var config = AttentionConfig.Random(seed);
            ResultArrays.AssertClose(Run<double>(config, true, [value, locations, weights]),
                Run<double>(config, false, [value, locations, weights]), DoubleTolerance, config.ToString());
        }
    }

    [TestMethod]
    public void FastPath_OneTwoAndFiveThreads_BitwiseIdentical()
    {
        var configs = new[]
        {
            new AttentionConfig(101, 2, [(16, 16), (8, 8), (4, 4), (2, 2)], 8, 32, 40, 4),
            new AttentionConfig(102, 33, [(5, 3), (2, 7)], 2, 9, 20, 3),
            new AttentionConfig(103, 1, [(9, 1), (1, 9), (3, 3)], 1, 17, 37, 2),
            // Three heads: whole-head backward tasks on one thread, per-level tasks on two and five.
            new AttentionConfig(104, 1, [(6, 5), (3, 3), (2, 2)], 3, 8, 25, 2),
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

    [TestMethod]
    public void FastPath_NonFiniteValue_ReachesOnlyTheSamplesThatReadIt()
    {
        var config = new AttentionConfig(301, 2, [(4, 5), (2, 3)], 2, 9, 6, 3);
        var (value, locations, weights) = config.Inputs<double>();
        value[0, 3, 1, 4] = double.PositiveInfinity;
        value[1, 21, 0, 0] = double.NaN;
        var expected = Backends.With(true, () => config.Run(value, locations, weights)).ToArray();
        var actual = Backends.With(false, () => config.Run(value, locations, weights)).ToArray();
        Assert.IsTrue(expected.Any(double.IsFinite) && expected.Any(v => !double.IsFinite(v)), "the case should mix finite and non-finite outputs");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(double.IsFinite(expected[i]), double.IsFinite(actual[i]), $"finiteness of output {i}: {expected[i]} vs {actual[i]}");
            if (double.IsFinite(expected[i])) Assert.AreEqual(expected[i], actual[i], 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"output {i}");
        }
    }
}

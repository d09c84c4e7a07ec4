using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

[TestClass]
public class MultiScaleDeformableAttentionTests
{
    // Closed forms below are sums of a few exactly representable products.
    private const double ExactTolerance = 1e-15;
    // Two double computations of the same sums in a different order.
    private const double DoubleTolerance = 1e-12;

    [TestMethod]
    public void MultiScaleDeformableAttention_HandComputed_MatchesBilinearFormula()
    {
        // One level 2×2 (value 1, 2 / 3, 4), one head of one channel. Location (0.5, 0.5) is pixel
        // (0.5, 0.5): the mean 2.5, times the weight 2. Location (0, 0.25) is pixel (−0.5, 0): half of
        // column 0 of row 0 (the other corners lie outside), times the weight −1.
        var value = Tensor<double>.FromArray([1, 2, 3, 4], 1, 4, 1, 1);
        var locations = Tensor<double>.FromArray([0.5, 0.5, 0, 0.25], 1, 1, 1, 1, 2, 2);
        var weights = Tensor<double>.FromArray([2, -1], 1, 1, 1, 1, 2);
        var output = Functional.MultiScaleDeformableAttention(value, [(2, 2)], [0], locations, weights);
        Assert.AreEqual(2 * 2.5 - 0.5 * 1, output[0, 0, 0], ExactTolerance);
    }

    [TestMethod]
    public void MultiScaleDeformableAttention_PerLevelGridSamples_SumToTheOutput()
    {
        // The definition spelled out with the engine's GridSample: level l's rows as [N·M, D, H, W],
        // locations as the grid 2·loc − 1, the samples weighted and summed over levels and points.
        var config = new AttentionConfig(41, 2, [(5, 4), (3, 3), (2, 1)], 3, 5, 6, 2);
        var (value, locations, weights) = config.Inputs<double>();
        var expected = Tensor<double>.Zeros(config.N, config.Heads, config.Channels, config.Queries);
        for (int l = 0; l < config.Levels; l++)
        {
            var (h, w) = config.Shapes[l];
            var levelValue = value.Slice(1, config.Starts[l], h * w).Permute(0, 2, 3, 1).Reshape(config.N * config.Heads, config.Channels, h, w);
            var grid = locations.Slice(3, l, 1).Reshape(config.N, config.Queries, config.Heads, config.Points, 2).Permute(0, 2, 1, 3, 4)
                .Reshape(config.N * config.Heads, config.Queries, config.Points, 2).MulScalar(2.0).AddScalar(-1.0);
            var samples = Functional.GridSample(levelValue, grid).Reshape(config.N, config.Heads, config.Channels, config.Queries, config.Points);
            var levelWeights = weights.Slice(3, l, 1).Reshape(config.N, config.Queries, config.Heads, 1, config.Points).Permute(0, 2, 3, 1, 4);
            expected = expected.Add(samples.Mul(levelWeights).Sum(4));
        }
        expected = expected.Permute(0, 3, 1, 2).Reshape(config.N, config.Queries, config.Heads * config.Channels);
        TensorAssert.Close(expected, config.Run(value, locations, weights), DoubleTolerance, "output");
    }

    /// <summary>Locations whose pixel coordinates in every level have fractional parts in (0.1, 0.9), inside
    /// and outside the map: central differences then see no kink of the bilinear coefficients.</summary>
    private static Tensor<double> SmoothLocations(AttentionConfig config, long seed)
    {
        var rng = new SeededRandom(seed);
        var data = new double[config.N * config.Queries * config.Heads * config.Levels * config.Points * 2];
        for (int i = 0; i < data.Length; i++)
        {
            int level = i / (2 * config.Points) % config.Levels;
            int size = i % 2 == 0 ? config.Shapes[level].W : config.Shapes[level].H;
            double pixel = rng.NextInt(size + 2) - 1.5 + 0.6 + 0.8 * rng.NextDouble();
            data[i] = (pixel + 0.5) / size;
        }
        return Tensor<double>.FromArray(data, config.N, config.Queries, config.Heads, config.Levels, config.Points, 2);
    }

    [TestMethod]
    public void MultiScaleDeformableAttention_GradCheck_Passes()
    {
        var config = new AttentionConfig(43, 2, [(4, 3), (2, 2), (1, 3)], 2, 3, 3, 2);
        var (value, _, weights) = config.Inputs<double>();
        var locations = SmoothLocations(config, 44);
        var result = GradCheck.Check(t => config.Run(t[0], t[1], t[2]), [value, locations, weights],
            names: ["value", "samplingLocations", "attentionWeights"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    public void MultiScaleDeformableAttention_LocationsFarOutside_ReadZeroWithZeroGradient()
    {
        var config = new AttentionConfig(45, 1, [(3, 3), (2, 2)], 2, 4, 2, 2);
        var (value, locations, weights) = config.Inputs<double>();
        var far = Tensor<double>.Full(5.0, locations.Shape);
        far[0, 1, 0, 0, 0, 0] = double.NaN;
        far[0, 1, 1, 1, 1, 1] = -3.0;
        foreach (var leaf in new[] { value, far, weights }) leaf.RequiresGrad = true;
        var output = config.Run(value, far, weights);
        output.Backward(Tensor<double>.Ones(output.Shape));
        TensorAssert.AllEqual(output, 0.0, "output");
        TensorAssert.AllEqual(value.Grad!, 0.0, "grad value");
        TensorAssert.AllEqual(far.Grad!, 0.0, "grad locations");
        TensorAssert.AllEqual(weights.Grad!, 0.0, "grad weights");
    }
}

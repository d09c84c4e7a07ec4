using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>MultiScaleDeformableAttention against the published pure-PyTorch definition in torch 1.13
/// (tests/golden/make_golden_msda.py), on the reference and the fast CPU backend.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class MultiScaleDeformableAttentionGoldenTests
{
    // Float64 on both sides with the same coordinate arithmetic; sums over levels · points · 4 corners
    // (at most a few hundred terms) in a different order: a few ulps.
    private const double Tolerance = 1e-9;

    public static IEnumerable<object[]> Cases =>
        GoldenCase.All("ms_deform_attn").SelectMany(c => new[] { new object[] { c.Name, true }, [c.Name, false] });

    public static ((int H, int W)[] Shapes, int[] Starts) Levels(GoldenCase golden) =>
        (golden.Params.GetProperty("spatial_shapes").EnumerateArray().Select(s => (s[0].GetInt32(), s[1].GetInt32())).ToArray(),
         golden.Params.GetProperty("level_start_index").EnumerateArray().Select(s => s.GetInt32()).ToArray());

    [TestMethod]
    public void Golden_HasAtLeastFiftyConfigurationsWithSeveralLevelsAndBothBatchSizes()
    {
        var cases = GoldenCase.All("ms_deform_attn").ToList();
        Assert.IsGreaterThanOrEqualTo(50, cases.Count);
        var batches = cases.Select(c => c.Load<double>("value").Dim(0)).ToHashSet();
        Assert.Contains(1, batches);
        Assert.Contains(33, batches);
        Assert.IsTrue(cases.Any(c => Levels(c).Shapes.Distinct().Count() >= 3), "a case with three levels of different sizes");
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void MultiScaleDeformableAttention_GoldenDouble_MatchesTorch(string name, bool reference)
    {
        var golden = GoldenCase.All("ms_deform_attn").Single(c => c.Name == name);
        var (shapes, starts) = Levels(golden);
        var value = golden.Load<double>("value");
        var locations = golden.Load<double>("sampling_locations");
        var weights = golden.Load<double>("attention_weights");
        foreach (var leaf in new[] { value, locations, weights }) leaf.RequiresGrad = true;
        var output = Backends.With(reference, () =>
        {
            var result = Functional.MultiScaleDeformableAttention(value, shapes, starts, locations, weights);
            result.Backward(golden.Load<double>("grad_output"));
            return result;
        });
        TensorAssert.Close(golden.Load<double>("output"), output, Tolerance, "output");
        TensorAssert.Close(golden.Load<double>("grad_value"), value.Grad!, Tolerance, "grad_value");
        TensorAssert.Close(golden.Load<double>("grad_sampling_locations"), locations.Grad!, Tolerance, "grad_sampling_locations");
        TensorAssert.Close(golden.Load<double>("grad_attention_weights"), weights.Grad!, Tolerance, "grad_attention_weights");
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>GridSample against torch 1.13's grid_sample (tests/golden/make_golden_msda.py), on the reference
/// and the fast CPU backend.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class GridSampleGoldenTests
{
    // Float64 on both sides with the same coordinate arithmetic; the sums over at most a few channels
    // differ in order by a few ulps. Far below the 1e-9 the operator promises.
    private const double Tolerance = 1e-9;

    public static IEnumerable<object[]> Cases =>
        GoldenCase.All("grid_sample").SelectMany(c => new[] { new object[] { c.Name, true }, [c.Name, false] });

    [TestMethod]
    public void Golden_HasAtLeastFiftyConfigurationsOverEveryModeAndPadding()
    {
        var cases = GoldenCase.All("grid_sample").ToList();
        Assert.IsGreaterThanOrEqualTo(50, cases.Count);
        var combinations = cases.Select(c => (c.Params.GetProperty("mode").GetString(), c.Params.GetProperty("padding_mode").GetString(),
            c.Params.GetProperty("align_corners").GetBoolean())).Distinct().Count();
        Assert.AreEqual(12, combinations, "2 modes × 3 paddings × 2 align_corners");
    }

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void GridSample_GoldenDouble_MatchesTorch(string name, bool reference)
    {
        var golden = GoldenCase.All("grid_sample").Single(c => c.Name == name);
        var mode = golden.Params.GetProperty("mode").GetString() == "nearest" ? GridSampleMode.Nearest : GridSampleMode.Bilinear;
        var padding = golden.Params.GetProperty("padding_mode").GetString() switch
        {
            "zeros" => GridSamplePadding.Zeros,
            "border" => GridSamplePadding.Border,
            _ => GridSamplePadding.Reflection,
        };
        bool alignCorners = golden.Params.GetProperty("align_corners").GetBoolean();
        var input = golden.Load<double>("input");
        var grid = golden.Load<double>("grid");
        input.RequiresGrad = true;
        grid.RequiresGrad = true;
        var output = Backends.With(reference, () =>
        {
            var result = Functional.GridSample(input, grid, mode, padding, alignCorners);
            result.Backward(golden.Load<double>("grad_output"));
            return result;
        });
        TensorAssert.Close(golden.Load<double>("output"), output, Tolerance, "output");
        TensorAssert.Close(golden.Load<double>("grad_input"), input.Grad!, Tolerance, "grad_input");
        TensorAssert.Close(golden.Load<double>("grad_grid"), grid.Grad!, Tolerance, "grad_grid");
    }
}

namespace DeformEngine.Tests.Ops;

[TestClass]
public class PSRoIAlignTests
{
    /// <summary>Same formula and summation order as torchvision in double: only rounding differs.</summary>
    private const double GoldenTolerance = 1e-10;
    /// <summary>float against double on inputs of order 1, averaged over a few samples.</summary>
    private const double FloatTolerance = 1e-5;

    [TestMethod]
    [DataRow("adaptive_scale05_3x3")]
    [DataRow("basic_sr2")]
    [DataRow("batch2_nonsquare_sr1")]
    [DataRow("partly_outside")]
    [DataRow("small_rois_adaptive")]
    public void PSRoIAlign_TorchvisionGolden_MatchesForwardAndInputGradient(string name)
    {
        var golden = RoITestData.LoadGolden("ps_roi_align", name);
        var input = golden.Input.Clone();
        input.RequiresGrad = true;
        var output = Functional.PSRoIAlign(input, golden.Rois, golden.OutputSize, golden.SpatialScale, golden.SamplingRatio);
        output.Backward(golden.GradOutput);

        double forward = RoITestData.MaxAbsDiff(output, golden.Output);
        double gradient = RoITestData.MaxAbsDiff(input.Grad!, golden.GradInput);
        Console.WriteLine($"ps_roi_align/{name}: forward {forward:E2}, grad_input {gradient:E2}");
        Assert.IsTrue(forward <= GoldenTolerance, $"forward max |diff| {forward:E3}");
        Assert.IsTrue(gradient <= GoldenTolerance, $"grad_input max |diff| {gradient:E3}");
    }

    [TestMethod]
    [DataRow(-1)]
    [DataRow(2)]
    public void PSRoIAlign_GradCheck_InputGradientMatchesFiniteDifferences(int samplingRatio)
    {
        var input = Tensor<double>.Randn(21, 2, 12, 5, 6);
        var rois = RoITestData.Rois([1, 0.4, 0.2, 4.7, 3.9], [0, -1.2, 1.1, 2.6, 5.8]);
        var result = RoITestData.CheckAndPrint(
            t => Functional.PSRoIAlign(t[0], rois, (2, 3), spatialScale: 1.0, samplingRatio), [input], ["input"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    public void PSRoIAlign_OneBin_EqualsAlignedRoIAlign()
    {
        // With a single bin every output channel reads its own input channel, and the RoI placement
        // is torchvision's aligned one.
        var input = Tensor<double>.Randn(22, 1, 3, 7, 7);
        var rois = RoITestData.Rois([0, 0.5, 1.25, 5.5, 4.0], [0, 2, 2, 2.5, 6]);
        var expected = Functional.RoIAlign(input, rois, (1, 1), 1.0, 2, aligned: true);
        var actual = Functional.PSRoIAlign(input, rois, (1, 1), 1.0, 2);
        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(actual, expected));
    }

    [TestMethod]
    public void PSRoIAlign_Float_MatchesDouble()
    {
        var input = Tensor<double>.Randn(23, 1, 8, 6, 6);
        var rois = RoITestData.Rois([0, 0.3, 0.6, 4.2, 5.5]);
        var expected = Functional.PSRoIAlign(input, rois, (2, 2), 1.0, -1);
        var actual = Functional.PSRoIAlign(RoITestData.ToFloat(input), RoITestData.ToFloat(rois), (2, 2), 1.0, -1);
        Assert.IsTrue(RoITestData.MaxAbsDiff(RoITestData.ToFloat(expected), actual) <= FloatTolerance);
    }
}

namespace DeformEngine.Tests.Ops;

[TestClass]
public class RoIAlignTests
{
    /// <summary>Same formula and summation order as torchvision in double: only rounding differs.</summary>
    private const double GoldenTolerance = 1e-10;
    /// <summary>float against double on inputs of order 1, averaged over a few samples.</summary>
    private const double FloatTolerance = 1e-5;

    [TestMethod]
    [DataRow("aligned_adaptive_nonsquare_out")]
    [DataRow("aligned_sr1_scale05")]
    [DataRow("aligned_sr2")]
    [DataRow("batch2_unaligned_sr2")]
    [DataRow("batch3_mixed_indices")]
    [DataRow("partly_outside_aligned")]
    [DataRow("partly_outside_unaligned_adaptive")]
    [DataRow("small_rois_aligned")]
    [DataRow("small_rois_unaligned")]
    [DataRow("unaligned_adaptive_scale05")]
    [DataRow("unaligned_sr2")]
    public void RoIAlign_TorchvisionGolden_MatchesForwardAndInputGradient(string name)
    {
        var golden = RoITestData.LoadGolden("roi_align", name);
        var input = golden.Input.Clone();
        input.RequiresGrad = true;
        var output = Functional.RoIAlign(input, golden.Rois, golden.OutputSize, golden.SpatialScale, golden.SamplingRatio, golden.Aligned);
        output.Backward(golden.GradOutput);

        double forward = RoITestData.MaxAbsDiff(output, golden.Output);
        double gradient = RoITestData.MaxAbsDiff(input.Grad!, golden.GradInput);
        Console.WriteLine($"roi_align/{name}: forward {forward:E2}, grad_input {gradient:E2}");
        Assert.IsTrue(forward <= GoldenTolerance, $"forward max |diff| {forward:E3}");
        Assert.IsTrue(gradient <= GoldenTolerance, $"grad_input max |diff| {gradient:E3}");
    }

    [TestMethod]
    [DataRow(true, -1)]
    [DataRow(true, 2)]
    [DataRow(false, -1)]
    [DataRow(false, 1)]
    public void RoIAlign_GradCheck_InputGradientMatchesFiniteDifferences(bool aligned, int samplingRatio)
    {
        var input = Tensor<double>.Randn(11, 2, 2, 6, 7);
        var rois = RoITestData.Rois(
            [1, 0.3, 0.7, 4.9, 3.6],
            [0, -1.4, 2.2, 3.1, 7.5],
            [1, 2.5, 1.5, 2.8, 1.9]);
        var result = RoITestData.CheckAndPrint(
            t => Functional.RoIAlign(t[0], rois, (2, 3), spatialScale: 1.0, samplingRatio, aligned), [input], ["input"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    public void RoIAlign_Float_MatchesDouble()
    {
        var input = Tensor<double>.Randn(12, 2, 3, 8, 8);
        var rois = RoITestData.Rois([0, 1.2, 0.4, 6.3, 5.1], [1, -2, 3, 9.5, 6.25]);
        var expected = Functional.RoIAlign(input, rois, (3, 2), 0.75, -1, aligned: true);
        var actual = Functional.RoIAlign(RoITestData.ToFloat(input), RoITestData.ToFloat(rois), (3, 2), 0.75, -1, aligned: true);
        Assert.IsTrue(RoITestData.MaxAbsDiff(RoITestData.ToFloat(expected), actual) <= FloatTolerance);
    }

    [TestMethod]
    public void RoIAlign_RoiBeyondTheImage_GivesZeroOutputAndGradient()
    {
        var input = Tensor<double>.Randn(13, 1, 2, 5, 5);
        input.RequiresGrad = true;
        var rois = RoITestData.Rois([0, 7, 7, 10, 12]);
        var output = Functional.RoIAlign(input, rois, (2, 2), samplingRatio: 2, aligned: true);
        output.Sum().Backward();
        Assert.IsTrue(output.ToArray().All(v => v == 0));
        Assert.IsTrue(input.Grad!.ToArray().All(v => v == 0));
    }

    [TestMethod]
    public void RoIAlign_NoRois_GivesEmptyOutput()
    {
        var input = Tensor<double>.Randn(14, 1, 3, 4, 4);
        var output = Functional.RoIAlign(input, Tensor<double>.Zeros(0, 5), (2, 2));
        CollectionAssert.AreEqual(new[] { 0, 3, 2, 2 }, output.Shape);
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class PSRoIAlignTests
{
    /// <summary>Same formula as torchvision in double; only rounding (and on a device the order of the
    /// scatter into the input gradient) differs.</summary>
    private const double GoldenTolerance = 1e-10;
    /// <summary>float against double on inputs of order 1, averaged over a few samples.</summary>
    private const double FloatTolerance = 1e-5;

    public static IEnumerable<object[]> Backends => TestBackends.All;

    public static IEnumerable<object[]> GoldenRows => TestBackends.Cross(TestBackends.Names, GoldenCase.All("ps_roi_align").Select(c => c.Name));

    public static IEnumerable<object[]> GradCheckRows => TestBackends.Cross(TestBackends.Names, new object[][] { [-1], [2] });

    [TestMethod]
    public void Golden_HasFiveConfigurations()
    {
        Assert.HasCount(5, GoldenCase.All("ps_roi_align"));
    }

    [TestMethod]
    [DynamicData(nameof(GoldenRows))]
    public void PSRoIAlign_TorchvisionGolden_MatchesForwardAndInputGradient(string backend, string name)
    {
        using var target = TestBackends.Open<double>(backend);
        var golden = RoITestData.LoadGolden("ps_roi_align", name);
        var input = golden.Input.Clone();
        input.RequiresGrad = true;
        var output = Functional.PSRoIAlign(target.On(input), target.On(golden.Rois), golden.OutputSize, golden.SpatialScale, golden.SamplingRatio);
        output.Backward(target.On(golden.GradOutput));

        double forward = RoITestData.MaxAbsDiff(output.To(Device.Cpu), golden.Output);
        double gradient = RoITestData.MaxAbsDiff(input.Grad!, golden.GradInput);
        Console.WriteLine($"{backend} ps_roi_align/{name}: forward {forward:E2}, grad_input {gradient:E2}");
        Assert.IsTrue(forward <= GoldenTolerance, $"forward max |diff| {forward:E3}");
        Assert.IsTrue(gradient <= GoldenTolerance, $"grad_input max |diff| {gradient:E3}");
    }

    [TestMethod]
    [DynamicData(nameof(GradCheckRows))]
    public void PSRoIAlign_GradCheck_InputGradientMatchesFiniteDifferences(string backend, int samplingRatio)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(21, 2, 12, 5, 6);
        var rois = target.On(RoITestData.Rois([1, 0.4, 0.2, 4.7, 3.9], [0, -1.2, 1.1, 2.6, 5.8]));
        var result = RoITestData.CheckAndPrint(
            target.Run<double>(t => Functional.PSRoIAlign(t[0], rois, (2, 3), spatialScale: 1.0, samplingRatio)), [input], ["input"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void PSRoIAlign_OneBin_EqualsAlignedRoIAlign(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // With a single bin every output channel reads its own input channel, and the RoI placement
        // is torchvision's aligned one.
        var input = target.On(Tensor<double>.Randn(22, 1, 3, 7, 7));
        var rois = target.On(RoITestData.Rois([0, 0.5, 1.25, 5.5, 4.0], [0, 2, 2, 2.5, 6]));
        var expected = Functional.RoIAlign(input, rois, (1, 1), 1.0, 2, aligned: true);
        var actual = Functional.PSRoIAlign(input, rois, (1, 1), 1.0, 2);
        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(actual.To(Device.Cpu), expected.To(Device.Cpu)));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void PSRoIAlign_Float_MatchesDouble(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(23, 1, 8, 6, 6);
        var rois = RoITestData.Rois([0, 0.3, 0.6, 4.2, 5.5]);
        var expected = Functional.PSRoIAlign(target.On(input), target.On(rois), (2, 2), 1.0, -1).To(Device.Cpu);
        var actual = Functional.PSRoIAlign(target.On(RoITestData.ToFloat(input)), target.On(RoITestData.ToFloat(rois)), (2, 2), 1.0, -1)
            .To(Device.Cpu);
        Assert.IsTrue(RoITestData.MaxAbsDiff(RoITestData.ToFloat(expected), actual) <= FloatTolerance);
    }
}

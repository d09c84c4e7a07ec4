using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class RoIAlignTests
{
    /// <summary>Same formula as torchvision in double; only rounding (and on a device the order of the
    /// scatter into the input gradient) differs.</summary>
    private const double GoldenTolerance = 1e-10;
    /// <summary>float against double on inputs of order 1, averaged over a few samples.</summary>
    private const double FloatTolerance = 1e-5;

    public static IEnumerable<object[]> Backends => TestBackends.All;

    public static IEnumerable<object[]> GoldenRows => TestBackends.Cross(TestBackends.Names, GoldenCase.All("roi_align").Select(c => c.Name));

    public static IEnumerable<object[]> GradCheckRows =>
        TestBackends.Cross(TestBackends.Names, new object[][] { [true, -1], [true, 2], [false, -1], [false, 1] });

    [TestMethod]
    public void Golden_HasElevenConfigurations()
    {
        Assert.HasCount(11, GoldenCase.All("roi_align"));
    }

    [TestMethod]
    [DynamicData(nameof(GoldenRows))]
    public void RoIAlign_TorchvisionGolden_MatchesForwardAndInputGradient(string backend, string name)
    {
        using var target = TestBackends.Open<double>(backend);
        var golden = RoITestData.LoadGolden("roi_align", name);
        var input = golden.Input.Clone();
        input.RequiresGrad = true;
        var output = Functional.RoIAlign(target.On(input), target.On(golden.Rois), golden.OutputSize, golden.SpatialScale,
            golden.SamplingRatio, golden.Aligned);
        output.Backward(target.On(golden.GradOutput));

        double forward = RoITestData.MaxAbsDiff(output.To(Device.Cpu), golden.Output);
        double gradient = RoITestData.MaxAbsDiff(input.Grad!, golden.GradInput);
        Console.WriteLine($"{backend} roi_align/{name}: forward {forward:E2}, grad_input {gradient:E2}");
        Assert.IsTrue(forward <= GoldenTolerance, $"forward max |diff| {forward:E3}");
        Assert.IsTrue(gradient <= GoldenTolerance, $"grad_input max |diff| {gradient:E3}");
    }

    [TestMethod]
    [DynamicData(nameof(GradCheckRows))]
    public void RoIAlign_GradCheck_InputGradientMatchesFiniteDifferences(string backend, bool aligned, int samplingRatio)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(11, 2, 2, 6, 7);
        var rois = target.On(RoITestData.Rois(
            [1, 0.3, 0.7, 4.9, 3.6],
            [0, -1.4, 2.2, 3.1, 7.5],
            [1, 2.5, 1.5, 2.8, 1.9]));
        var result = RoITestData.CheckAndPrint(
            target.Run<double>(t => Functional.RoIAlign(t[0], rois, (2, 3), spatialScale: 1.0, samplingRatio, aligned)), [input], ["input"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_Float_MatchesDouble(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(12, 2, 3, 8, 8);
        var rois = RoITestData.Rois([0, 1.2, 0.4, 6.3, 5.1], [1, -2, 3, 9.5, 6.25]);
        var expected = Functional.RoIAlign(target.On(input), target.On(rois), (3, 2), 0.75, -1, aligned: true).To(Device.Cpu);
        var actual = Functional.RoIAlign(target.On(RoITestData.ToFloat(input)), target.On(RoITestData.ToFloat(rois)), (3, 2), 0.75, -1,
            aligned: true).To(Device.Cpu);
        Assert.IsTrue(RoITestData.MaxAbsDiff(RoITestData.ToFloat(expected), actual) <= FloatTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_RoiBeyondTheImage_GivesZeroOutputAndGradient(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(13, 1, 2, 5, 5);
        input.RequiresGrad = true;
        var rois = RoITestData.Rois([0, 7, 7, 10, 12]);
        var output = Functional.RoIAlign(target.On(input), target.On(rois), (2, 2), samplingRatio: 2, aligned: true);
        output.Sum().Backward();
        Assert.IsTrue(output.ToArray().All(v => v == 0));
        Assert.IsTrue(input.Grad!.ToArray().All(v => v == 0));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void RoIAlign_NoRois_GivesEmptyOutput(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(14, 1, 3, 4, 4);
        var output = Functional.RoIAlign(target.On(input), target.On(Tensor<double>.Zeros(0, 5)), (2, 2));
        CollectionAssert.AreEqual(new[] { 0, 3, 2, 2 }, output.Shape);
        Assert.AreSame(target.Device, output.Device, "the op runs where its inputs are");
    }
}

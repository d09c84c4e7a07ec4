using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class DeformRoIPoolTests
{
    /// <summary>float against double on inputs of order 1, averaged over a few samples.</summary>
    private const double FloatTolerance = 1e-5;
    /// <summary>The same arithmetic in a different order (a product with an exact 1).</summary>
    private const double ReorderTolerance = 1e-14;
    /// <summary>A device scatters the input gradient by atomic adds in an order of its own, so two operators with
    /// the same contributions may round their sums apart by an ulp of values of order 1; the CPU adds in one order.</summary>
    private const double DeviceScatterTolerance = 1e-14;
    private const double Gamma = 0.1;

    // Aligned RoIs with starts on integers and 2-pixel bins, so unshifted samples sit on the
    // half-integer grid; the second and third reach past the left, bottom and right borders.
    private static readonly double[][] GridRois =
    [
        [0, 1.5, 1.5, 7.5, 5.5],
        [1, -1.5, 3.5, 4.5, 7.5],
        [1, 4.5, -0.5, 10.5, 3.5],
    ];
    private const int BinsY = 2, BinsX = 3;

    /// <summary>Offsets [K, 2, PH, PW] that move the bins by the given pixel shifts:
    /// offset_x = Δx / (γ·w), offset_y = Δy / (γ·h).</summary>
    private static Tensor<double> OffsetsFromShifts(Tensor<double> shifts, double[][] rois)
    {
        var data = shifts.ToArray();
        int bins = BinsY * BinsX;
        for (int k = 0; k < rois.Length; k++)
            for (int b = 0; b < bins; b++)
            {
                data[(k * 2) * bins + b] /= Gamma * (rois[k][3] - rois[k][1]);
                data[(k * 2 + 1) * bins + b] /= Gamma * (rois[k][4] - rois[k][2]);
            }
        return Tensor<double>.FromArray(data, shifts.Shape);
    }

    private static Tensor<double> GridOffsets(long seed) =>
        OffsetsFromShifts(RoITestData.KeepOffHalfIntegers(Tensor<double>.Randn(seed, GridRois.Length, 2, BinsY, BinsX).MulScalar(0.8)), GridRois);

    public static IEnumerable<object[]> Backends => TestBackends.All;

    private static double ScatterTolerance(TestBackend target) => target.IsCpu ? 0.0 : DeviceScatterTolerance;

    public static IEnumerable<object[]> SamplingRows => TestBackends.Cross(TestBackends.Names, new object[][] { [0], [1], [2] });

    public static IEnumerable<object[]> GradCheckRows => TestBackends.Cross(TestBackends.Names, new object[][] { [1], [2] });

    [TestMethod]
    [DynamicData(nameof(SamplingRows))]
    public void DeformRoIPool_ZeroOffsets_EqualsAlignedRoIAlign(string backend, int samplingRatio)
    {
        using var target = TestBackends.Open<double>(backend);
        var rois = target.On(RoITestData.Rois([0, 0.3, 1.1, 5.7, 4.2], [1, -2.2, 2.4, 3.3, 8.9], [1, 3.4, 3.4, 3.9, 3.4]));
        var input = Tensor<double>.Randn(31, 2, 3, 7, 8);
        var reference = input.Clone();
        input.RequiresGrad = true;
        reference.RequiresGrad = true;
        var gradOutput = target.On(Tensor<double>.Randn(33, 3, 3, 2, 3));

        var expected = Functional.RoIAlign(target.On(reference), rois, (2, 3), 0.8, samplingRatio, aligned: true);
        var actual = Functional.DeformRoIPool(target.On(input), rois, target.On(Tensor<double>.Zeros(3, 2, 2, 3)), (2, 3), 0.8, samplingRatio);
        expected.Backward(gradOutput);
        actual.Backward(gradOutput);

        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(actual.To(Device.Cpu), expected.To(Device.Cpu)), "forward");
        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(input.Grad!, reference.Grad!), ScatterTolerance(target), "input gradient");
        var withoutOffset = Functional.DeformRoIPool(target.On(input.Detach()), rois, null, (2, 3), 0.8, samplingRatio);
        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(withoutOffset.To(Device.Cpu), expected.To(Device.Cpu)), "null offset");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformRoIPool_OffsetChannel0_ShiftsBinsAlongXByGammaTimesWidth(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // offset_x = 1 / (γ·w) moves every bin one pixel right: the same as RoI Align of the RoI
        // moved by one pixel.
        var input = target.On(Tensor<double>.Randn(34, 1, 2, 6, 9));
        var rois = RoITestData.Rois([0, 1.25, 0.5, 5.25, 4.5]);
        var offset = Tensor<double>.Zeros(1, 2, 2, 2);
        for (int b = 0; b < 4; b++) offset[0, 0, b / 2, b % 2] = 1 / (Gamma * 4);
        var actual = Functional.DeformRoIPool(input, target.On(rois), target.On(offset), (2, 2), 1.0, 2, Gamma);
        var expected = Functional.RoIAlign(input, target.On(RoITestData.Rois([0, 2.25, 0.5, 6.25, 4.5])), (2, 2), 1.0, 2, aligned: true);
        RoITestData.AssertClose(expected.To(Device.Cpu), actual.To(Device.Cpu), ReorderTolerance, "shifted bins");
    }

    [TestMethod]
    [DynamicData(nameof(GradCheckRows))]
    public void DeformRoIPool_GradCheck_InputAndOffsetGradientsMatchFiniteDifferences(string backend, int samplingRatio)
    {
        using var target = TestBackends.Open<double>(backend);
        var rois = target.On(RoITestData.Rois(GridRois));
        var input = Tensor<double>.Randn(35, 2, 2, 8, 9);
        var offset = GridOffsets(36);
        var result = RoITestData.CheckAndPrint(
            target.Run<double>(t => Functional.DeformRoIPool(t[0], rois, t[1], (BinsY, BinsX), 1.0, samplingRatio, Gamma)),
            [input, offset], ["input", "offset"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformRoIPool_NaNOffset_BinReadsZeroWithZeroGradient(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(37, 1, 1, 5, 5);
        input.RequiresGrad = true;
        var offset = Tensor<double>.Zeros(1, 2, 1, 1);
        offset.RequiresGrad = true;
        offset.AsSpan()[0] = double.NaN;
        var output = Functional.DeformRoIPool(target.On(input), target.On(RoITestData.Rois([0, 1, 1, 3, 3])), target.On(offset), (1, 1), 1.0, 2);
        output.Sum().Backward();
        Assert.AreEqual(0.0, output.Item());
        Assert.IsTrue(input.Grad!.ToArray().All(v => v == 0));
        Assert.IsTrue(offset.Grad!.ToArray().All(v => v == 0));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformRoIPool_Float_MatchesDouble(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var rois = RoITestData.Rois(GridRois);
        var input = Tensor<double>.Randn(38, 2, 2, 8, 9);
        var offset = GridOffsets(39);
        var expected = Functional.DeformRoIPool(target.On(input), target.On(rois), target.On(offset), (BinsY, BinsX), 1.0, 0, Gamma);
        var actual = Functional.DeformRoIPool(target.On(RoITestData.ToFloat(input)), target.On(RoITestData.ToFloat(rois)),
            target.On(RoITestData.ToFloat(offset)), (BinsY, BinsX), 1.0, 0, Gamma);
        Assert.IsTrue(RoITestData.MaxAbsDiff(RoITestData.ToFloat(expected.To(Device.Cpu)), actual.To(Device.Cpu)) <= FloatTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void ModulatedDeformRoIPool_MaskOne_EqualsDeformRoIPool(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var rois = target.On(RoITestData.Rois(GridRois));
        var gradOutput = target.On(Tensor<double>.Randn(40, 3, 2, BinsY, BinsX));
        var (input, offset) = (Tensor<double>.Randn(41, 2, 2, 8, 9), GridOffsets(42));
        var (input2, offset2) = (input.Clone(), offset.Clone());
        foreach (var t in new[] { input, offset, input2, offset2 }) t.RequiresGrad = true;

        var expected = Functional.DeformRoIPool(target.On(input), rois, target.On(offset), (BinsY, BinsX), 1.0, 2, Gamma);
        var actual = Functional.ModulatedDeformRoIPool(target.On(input2), rois, target.On(offset2),
            target.On(Tensor<double>.Ones(3, 1, BinsY, BinsX)), (BinsY, BinsX), 1.0, 2, Gamma);
        expected.Backward(gradOutput);
        actual.Backward(gradOutput);

        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(actual.To(Device.Cpu), expected.To(Device.Cpu)), "forward");
        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(input2.Grad!, input.Grad!), ScatterTolerance(target), "input gradient");
        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(offset2.Grad!, offset.Grad!), "offset gradient");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void ModulatedDeformRoIPool_GradCheck_InputOffsetAndMaskGradientsMatchFiniteDifferences(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var rois = target.On(RoITestData.Rois(GridRois));
        var input = Tensor<double>.Randn(43, 2, 2, 8, 9);
        var offset = GridOffsets(44);
        var mask = Tensor<double>.Rand(45, 3, 1, BinsY, BinsX);
        var result = RoITestData.CheckAndPrint(
            target.Run<double>(t => Functional.ModulatedDeformRoIPool(t[0], rois, t[1], t[2], (BinsY, BinsX), 1.0, 2, Gamma)),
            [input, offset, mask], ["input", "offset", "mask"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void ModulatedDeformRoIPool_Float_MatchesDouble(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var rois = RoITestData.Rois(GridRois);
        var input = Tensor<double>.Randn(46, 2, 2, 8, 9);
        var offset = GridOffsets(47);
        var mask = Tensor<double>.Rand(48, 3, 1, BinsY, BinsX);
        var expected = Functional.ModulatedDeformRoIPool(target.On(input), target.On(rois), target.On(offset), target.On(mask),
            (BinsY, BinsX), 1.0, 2, Gamma);
        var actual = Functional.ModulatedDeformRoIPool(target.On(RoITestData.ToFloat(input)), target.On(RoITestData.ToFloat(rois)),
            target.On(RoITestData.ToFloat(offset)), target.On(RoITestData.ToFloat(mask)), (BinsY, BinsX), 1.0, 2, Gamma);
        Assert.IsTrue(RoITestData.MaxAbsDiff(RoITestData.ToFloat(expected.To(Device.Cpu)), actual.To(Device.Cpu)) <= FloatTolerance);
    }
}

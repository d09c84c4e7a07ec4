using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class DeformPSRoIPoolTests
{
    /// <summary>float against double on inputs of order 1, averaged over a few samples.</summary>
    private const double FloatTolerance = 1e-5;
    /// <summary>Means of exactly representable pixels computed in another order.</summary>
    private const double AverageTolerance = 1e-14;
    private const double TransStd = 0.1;

    // With spatialScale 1, P = 2 and S = 2 these RoIs are 4 pixels wide after MXNet's rounding
    // (round(x2) + 1 − round(x1)), so the unshifted samples sit on half-integers, 1 pixel apart;
    // the second and third reach past the borders, where samples are clamped or skipped.
    private static readonly double[][] GridRois =
    [
        [0, 1.2, 0.9, 4.1, 3.8],
        [1, -1.8, 3, 1, 6.3],
        [1, 4.4, -2, 7.4, 1.1],
    ];
    private const int Pooled = 2, Samples = 2, Width = 4;

    private static Tensor<double> GridTrans(long seed, int classes, int parts) =>
        RoITestData.KeepOffHalfIntegers(Tensor<double>.Randn(seed, GridRois.Length, 2 * classes, parts, parts).MulScalar(0.8))
            .MulScalar(1 / (TransStd * Width));

    public static IEnumerable<object[]> Backends => TestBackends.All;

    public static IEnumerable<object[]> GradCheckRows => TestBackends.Cross(TestBackends.Names, new object[][] { [2, 2], [1, 1] });

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformPSRoIPool_NoTransGroupOne_AveragesThePixelsOfEachBin(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // spatialScale ½ with odd x1, y1 puts the RoI start on whole pixels: each bin is 2×2
        // pixels and its 2×2 samples sit on their centres. The second RoI covers columns 3 … 6 of
        // a 6-pixel-wide map: column 6 is beyond the −½ … W − ½ margin and skipped, so its second
        // bins average column 5 alone.
        var input = Tensor<double>.Randn(51, 2, 3, 6, 6);
        var rois = RoITestData.Rois([0, 3, 1, 10, 8], [1, 7, 1, 14, 8]);
        var output = Functional.DeformPSRoIPool(target.On(input), target.On(rois), null, 0.5, outputDim: 3, groupSize: 1, pooledSize: 2,
            samplePerPart: 2, noTrans: true).To(Device.Cpu);

        int[][] columns = [[1, 2, 3, 4], [3, 4, 5]];
        var expected = Tensor<double>.Zeros(2, 3, 2, 2);
        for (int k = 0; k < 2; k++)
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++)
                    {
                        var cols = columns[k].Where(x => x >= columns[k][0] + 2 * j && x < columns[k][0] + 2 * j + 2).ToArray();
                        double sum = 0;
                        foreach (int y in new[] { 2 * i, 2 * i + 1 })
                            foreach (int x in cols) sum += input[k, c, y, x];
                        expected[k, c, i, j] = sum / (2 * cols.Length);
                    }
        RoITestData.AssertClose(expected, output, AverageTolerance, "bin averages");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformPSRoIPool_RoiBeyondTheImage_GivesZeroOutputAndGradient(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(52, 1, 4, 5, 5);
        input.RequiresGrad = true;
        var output = Functional.DeformPSRoIPool(target.On(input), target.On(RoITestData.Rois([0, 8, 8, 12, 12])), null, 1.0, 1, 2, 2,
            samplePerPart: 3, noTrans: true);
        output.Sum().Backward();
        Assert.IsTrue(output.ToArray().All(v => v == 0));
        Assert.IsTrue(input.Grad!.ToArray().All(v => v == 0));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformPSRoIPool_TransOfOnePixel_EqualsTheShiftedRoi(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // Δx = transStd · trans · w; with w = 4 and trans = 1 / (transStd · 4) every bin moves one
        // pixel to the right, like the RoI itself moved by one pixel.
        var input = target.On(Tensor<double>.Randn(53, 1, 8, 6, 8));
        var trans = Tensor<double>.Zeros(1, 2, 2, 2);
        for (int b = 0; b < 4; b++) trans[0, 0, b / 2, b % 2] = 1 / (TransStd * Width);
        var moved = Functional.DeformPSRoIPool(input, target.On(RoITestData.Rois([0, 1, 1, 4, 4])), target.On(trans), 1.0, 2, 2, Pooled,
            samplePerPart: 3, transStd: TransStd);
        var expected = Functional.DeformPSRoIPool(input, target.On(RoITestData.Rois([0, 2, 1, 5, 4])), null, 1.0, 2, 2, Pooled,
            samplePerPart: 3, noTrans: true);
        RoITestData.AssertClose(expected.To(Device.Cpu), moved.To(Device.Cpu), AverageTolerance, "moved bins");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformPSRoIPool_NoTrans_IgnoresTheTransTensor(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = target.On(Tensor<double>.Randn(54, 1, 8, 6, 6));
        var rois = target.On(RoITestData.Rois([0, 0.6, 1.4, 3.7, 4.2]));
        var withTrans = Functional.DeformPSRoIPool(input, rois, target.On(Tensor<double>.Randn(55, 1, 2, 2, 2)), 1.0, 2, 2, 2,
            samplePerPart: 2, transStd: TransStd, noTrans: true);
        var without = Functional.DeformPSRoIPool(input, rois, null, 1.0, 2, 2, 2, samplePerPart: 2, noTrans: true);
        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(withTrans.To(Device.Cpu), without.To(Device.Cpu)));
    }

    [TestMethod]
    [DynamicData(nameof(GradCheckRows))]
    public void DeformPSRoIPool_GradCheck_InputAndTransGradientsMatchFiniteDifferences(string backend, int classes, int partSize)
    {
        using var target = TestBackends.Open<double>(backend);
        // outputDim 2, groupSize 2: 8 input channels; with partSize 1 all bins share one offset
        // per class, so its gradient sums over bins.
        var rois = target.On(RoITestData.Rois(GridRois));
        var input = Tensor<double>.Randn(56, 2, 8, 6, 7);
        var trans = GridTrans(57, classes, partSize);
        var result = RoITestData.CheckAndPrint(
            target.Run<double>(t => Functional.DeformPSRoIPool(t[0], rois, t[1], 1.0, outputDim: 2, groupSize: 2, Pooled, partSize, Samples, TransStd)),
            [input, trans], ["input", "trans"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformPSRoIPool_Float_MatchesDouble(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var rois = RoITestData.Rois(GridRois);
        var input = Tensor<double>.Randn(58, 2, 8, 6, 7);
        var trans = GridTrans(59, 2, 2);
        var expected = Functional.DeformPSRoIPool(target.On(input), target.On(rois), target.On(trans), 1.0, 2, 2, Pooled, 2, Samples, TransStd);
        var actual = Functional.DeformPSRoIPool(target.On(RoITestData.ToFloat(input)), target.On(RoITestData.ToFloat(rois)),
            target.On(RoITestData.ToFloat(trans)), 1.0, 2, 2, Pooled, 2, Samples, TransStd);
        Assert.IsTrue(RoITestData.MaxAbsDiff(RoITestData.ToFloat(expected.To(Device.Cpu)), actual.To(Device.Cpu)) <= FloatTolerance);
    }
}

namespace DeformEngine.Tests.Ops;

[TestClass]
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

    [TestMethod]
    public void DeformPSRoIPool_NoTransGroupOne_AveragesThePixelsOfEachBin()
    {
        // spatialScale ½ with odd x1, y1 puts the RoI start on whole pixels: each bin is 2×2
        // pixels and its 2×2 samples sit on their centres. The second RoI covers columns 3 … 6 of
        // a 6-pixel-wide map: column 6 is beyond the −½ … W − ½ margin and skipped, so its second
        // bins average column 5 alone.
        var input = Tensor<double>.Randn(51, 2, 3, 6, 6);
        var rois = RoITestData.Rois([0, 3, 1, 10, 8], [1, 7, 1, 14, 8]);
        var output = Functional.DeformPSRoIPool(input, rois, null, 0.5, outputDim: 3, groupSize: 1, pooledSize: 2,
            samplePerPart: 2, noTrans: true);

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
    public void DeformPSRoIPool_RoiBeyondTheImage_GivesZeroOutputAndGradient()
    {
        var input = Tensor<double>.Randn(52, 1, 4, 5, 5);
        input.RequiresGrad = true;
        var output = Functional.DeformPSRoIPool(input, RoITestData.Rois([0, 8, 8, 12, 12]), null, 1.0, 1, 2, 2,
            samplePerPart: 3, noTrans: true);
        output.Sum().Backward();
        Assert.IsTrue(output.ToArray().All(v => v == 0));
        Assert.IsTrue(input.Grad!.ToArray().All(v => v == 0));
    }

    [TestMethod]
    public void DeformPSRoIPool_TransOfOnePixel_EqualsTheShiftedRoi()
    {
        // Δx = transStd · trans · w; with w = 4 and trans = 1 / (transStd · 4) every bin moves one
        // pixel to the right, like the RoI itself moved by one pixel.
        var input = Tensor<double>.Randn(53, 1, 8, 6, 8);
        var trans = Tensor<double>.Zeros(1, 2, 2, 2);
        for (int b = 0; b < 4; b++) trans[0, 0, b / 2, b % 2] = 1 / (TransStd * Width);
        var moved = Functional.DeformPSRoIPool(input, RoITestData.Rois([0, 1, 1, 4, 4]), trans, 1.0, 2, 2, Pooled,
            samplePerPart: 3, transStd: TransStd);
        var expected = Functional.DeformPSRoIPool(input, RoITestData.Rois([0, 2, 1, 5, 4]), null, 1.0, 2, 2, Pooled,
            samplePerPart: 3, noTrans: true);
        RoITestData.AssertClose(expected, moved, AverageTolerance, "moved bins");
    }

    [TestMethod]
    public void DeformPSRoIPool_NoTrans_IgnoresTheTransTensor()
    {
        var input = Tensor<double>.Randn(54, 1, 8, 6, 6);
        var rois = RoITestData.Rois([0, 0.6, 1.4, 3.7, 4.2]);
        var withTrans = Functional.DeformPSRoIPool(input, rois, Tensor<double>.Randn(55, 1, 2, 2, 2), 1.0, 2, 2, 2,
            samplePerPart: 2, transStd: TransStd, noTrans: true);
        var without = Functional.DeformPSRoIPool(input, rois, null, 1.0, 2, 2, 2, samplePerPart: 2, noTrans: true);
        Assert.AreEqual(0.0, RoITestData.MaxAbsDiff(withTrans, without));
    }

    [TestMethod]
    [DataRow(2, 2)]
    [DataRow(1, 1)]
    public void DeformPSRoIPool_GradCheck_InputAndTransGradientsMatchFiniteDifferences(int classes, int partSize)
    {
        // outputDim 2, groupSize 2: 8 input channels; with partSize 1 all bins share one offset
        // per class, so its gradient sums over bins.
        var rois = RoITestData.Rois(GridRois);
        var input = Tensor<double>.Randn(56, 2, 8, 6, 7);
        var trans = GridTrans(57, classes, partSize);
        var result = RoITestData.CheckAndPrint(
            t => Functional.DeformPSRoIPool(t[0], rois, t[1], 1.0, outputDim: 2, groupSize: 2, Pooled, partSize, Samples, TransStd),
            [input, trans], ["input", "trans"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    public void DeformPSRoIPool_Float_MatchesDouble()
    {
        var rois = RoITestData.Rois(GridRois);
        var input = Tensor<double>.Randn(58, 2, 8, 6, 7);
        var trans = GridTrans(59, 2, 2);
        var expected = Functional.DeformPSRoIPool(input, rois, trans, 1.0, 2, 2, Pooled, 2, Samples, TransStd);
        var actual = Functional.DeformPSRoIPool(RoITestData.ToFloat(input), RoITestData.ToFloat(rois), RoITestData.ToFloat(trans),
            1.0, 2, 2, Pooled, 2, Samples, TransStd);
        Assert.IsTrue(RoITestData.MaxAbsDiff(RoITestData.ToFloat(expected), actual) <= FloatTolerance);
    }
}

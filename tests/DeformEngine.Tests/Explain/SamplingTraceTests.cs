using DeformEngine.Explain;

namespace DeformEngine.Tests.Explain;

[TestClass]
public class SamplingTraceTests
{
    [TestMethod]
    public void SamplingLayer_Pooling_PlacesUnitsAtWindowCentres()
    {
        var pool = SamplingLayer.Pooling(28, 28, kernel: 2, stride: 2);
        Assert.IsFalse(pool.DrawsSamples);
        Assert.AreEqual(14, pool.Geometry.Conv.OutH);
        Assert.AreEqual((6.5, 8.5), pool.OutputToInput(3, 4), "a 2×2 window covers pixels 2y, 2y + 1");
        Assert.AreEqual((3, 4), pool.NearestUnit(6.5, 8.5));
        Assert.AreEqual("kernel", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingLayer.Pooling(28, 28, 0, 2)).ParamName);
        Assert.AreEqual("inputHeight", Assert.ThrowsExactly<ArgumentException>(() => SamplingLayer.Pooling(1, 28, 2, 2)).ParamName);
    }

    [TestMethod]
    public void Levels_OneLayerConstantOffset_GridShiftedByTheOffset()
    {
        // 3×3, padding 1, dilation 1: unit (y, x) samples (y − 1 + i + dy, x − 1 + j + dx).
        const double dy = 0.75, dx = -1.25;
        var layer = ConstantOffsetLayer(8, 8, dy, dx);
        var levels = SamplingTrace.Levels([layer], 4, 5);
        Assert.HasCount(1, levels);
        var expected = new List<(double, double)>();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                expected.Add((4 - 1 + i + dy, 5 - 1 + j + dx));
        CollectionAssert.AreEqual(expected, levels[0]);
    }

    [TestMethod]
    public void Levels_TwoRegularLayers_SecondLevelIsTheFiveByFiveWindow()
    {
        var layer = ConstantOffsetLayer(10, 10, 0, 0);
        var levels = SamplingTrace.Levels([layer, layer], 5, 5);
        Assert.HasCount(2, levels);
        Assert.HasCount(9, levels[0]);
        var distinct = levels[1].Distinct().ToList();
        Assert.HasCount(25, distinct, "two stacked 3×3 windows reach 5×5 distinct positions");
        Assert.AreEqual(3.0, distinct.Min(p => p.Y));
        Assert.AreEqual(7.0, distinct.Max(p => p.X));
    }

    [TestMethod]
    public void ToImage_ThroughPooling_MapsToWindowCentre()
    {
        var layers = new List<SamplingLayer> { SamplingLayer.Pooling(12, 12, 2, 2), ConstantOffsetLayer(6, 6, 0, 0) };
        // A sample at (1, 2) in the pooled grid is the centre of the window over pixels 2..3 and 4..5.
        Assert.AreEqual((2.5, 4.5), SamplingTrace.ToImage(layers, 1, 1, 2));
        var levels = SamplingTrace.Levels(layers, 1, 2);
        Assert.HasCount(1, levels, "a pooling step makes no level of its own");
        CollectionAssert.Contains(levels[0], (2.5, 4.5), "the centre sample of unit (1, 2)");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => SamplingTrace.ToImage(layers, 3, 0, 0));
    }

    /// <summary>A 3×3 'same' layer over an H×W input whose every offset is (dy, dx).</summary>
    private static SamplingLayer ConstantOffsetLayer(int height, int width, double dy, double dx)
    {
        var offset = new double[18 * height * width];
        for (int k = 0; k < 9; k++)
            for (int p = 0; p < height * width; p++)
            {
                offset[(2 * k) * height * width + p] = dy;
                offset[(2 * k + 1) * height * width + p] = dx;
            }
        var call = new DeformConvCall<double>(Tensor<double>.Zeros(1, 1, height, width),
            Tensor<double>.FromArray(offset, 1, 18, height, width), Tensor<double>.Zeros(1, 1, 3, 3), Padding: (1, 1));
        return SamplingLayer.From(call);
    }
}

namespace DeformEngine.Tests.Ops;

/// <summary>Dcnv3 and Dcnv4: finite differences in double, closed forms, and the relation between the two.</summary>
[TestClass]
public class Dcnv3Tests
{
    // Two evaluations of the same sums in another order in double.
    private const double SameMathTolerance = 1e-13;

    /// <summary>Offsets whose sampling positions (an integer grid plus Δ·s for s ∈ {1, 2}) stay 0.05 off the
    /// integers, where bilinear interpolation has kinks and central differences straddle two slopes.</summary>
    private static Tensor<double> Offsets(long seed, double scale, params int[] shape) =>
        GradCheck.KeepOffIntegers(Tensor<double>.Randn(seed, shape).MulScalar(1.5 * scale)).MulScalar(1 / scale);

    public sealed record Geometry(int N, int H, int W, int Group, int GroupChannels, (int H, int W) Kernel, (int H, int W) Stride,
        (int H, int W) Padding, (int H, int W) Dilation, double Scale, bool RemoveCenter)
    {
        public int OutH => (H + 2 * Padding.H - Dilation.H * (Kernel.H - 1) - 1) / Stride.H + 1;
        public int OutW => (W + 2 * Padding.W - Dilation.W * (Kernel.W - 1) - 1) / Stride.W + 1;
        public int Points => Kernel.H * Kernel.W - (RemoveCenter ? 1 : 0);
    }

    public static IEnumerable<object[]> Geometries =>
    [
        [new Geometry(2, 5, 6, 2, 3, (3, 3), (1, 1), (1, 1), (1, 1), 1.0, false)],
        [new Geometry(1, 7, 6, 3, 2, (3, 3), (2, 2), (2, 1), (2, 1), 2.0, true)],
        [new Geometry(2, 4, 5, 1, 4, (2, 3), (1, 2), (1, 0), (1, 1), 1.0, false)],
        [new Geometry(1, 5, 5, 2, 2, (5, 5), (1, 1), (2, 2), (1, 1), 1.0, true)],
    ];

    [TestMethod]
    [DynamicData(nameof(Geometries))]
    public void Dcnv3_GradCheck_PassesForEveryInput(Geometry g)
    {
        var result = GradCheck.Check(
            t => Functional.Dcnv3(t[0], t[1], t[2], g.Kernel, g.Stride, g.Padding, g.Dilation, g.Group, g.GroupChannels, g.Scale, g.RemoveCenter),
            [
                Tensor<double>.Randn(1, g.N, g.H, g.W, g.Group * g.GroupChannels),
                Offsets(2, g.Scale, g.N, g.OutH, g.OutW, g.Group * g.Points * 2),
                Tensor<double>.Randn(3, g.N, g.OutH, g.OutW, g.Group * g.Points),
            ], names: ["input", "offset", "mask"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Geometries))]
    public void Dcnv4_GradCheck_PassesForEveryInput(Geometry g)
    {
        int packed = Dcnv4Params.PackedLength(g.Group, g.Points);
        var offsetMask = Tensor<double>.Randn(4, g.N, g.OutH, g.OutW, packed);
        var offsets = Offsets(5, g.Scale, g.N, g.OutH, g.OutW, packed).ToArray();
        var data = offsetMask.AsSpan();
        // The Δx, Δy entries of every group kept off the kinks; the weights and the padding as drawn.
        for (int at = 0; at < data.Length; at++)
        {
            int inRow = at % packed, inGroup = inRow % (3 * g.Points);
            if (inRow < 3 * g.Group * g.Points && inGroup < 2 * g.Points) data[at] = offsets[at];
        }
        var result = GradCheck.Check(
            t => Functional.Dcnv4(t[0], t[1], g.Kernel, g.Stride, g.Padding, g.Dilation, g.Group, g.GroupChannels, g.Scale, g.RemoveCenter),
            [Tensor<double>.Randn(6, g.N, g.H, g.W, g.Group * g.GroupChannels), offsetMask], names: ["input", "offsetMask"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    public void Dcnv4_PackedOffsetAndMask_EqualsDcnv3OnTheUnpackedFields()
    {
        var g = new Geometry(2, 6, 5, 3, 4, (3, 3), (1, 2), (1, 1), (1, 2), 1.5, true);
        int packed = Dcnv4Params.PackedLength(g.Group, g.Points), positions = g.N * g.OutH * g.OutW;
        var input = Tensor<double>.Randn(7, g.N, g.H, g.W, g.Group * g.GroupChannels);
        var offsetMask = Tensor<double>.Randn(8, g.N, g.OutH, g.OutW, packed).MulScalar(2.0);
        var packedData = offsetMask.ToArray();
        var offset = new double[positions * g.Group * g.Points * 2];
        var mask = new double[positions * g.Group * g.Points];
        for (int r = 0; r < positions; r++)
            for (int group = 0; group < g.Group; group++)
                for (int p = 0; p < g.Points; p++)
                {
                    int from = r * packed + group * 3 * g.Points;
                    offset[(r * g.Group + group) * g.Points * 2 + 2 * p] = packedData[from + 2 * p];
                    offset[(r * g.Group + group) * g.Points * 2 + 2 * p + 1] = packedData[from + 2 * p + 1];
                    mask[(r * g.Group + group) * g.Points + p] = packedData[from + 2 * g.Points + p];
                }
        var expected = Functional.Dcnv3(input, Tensor<double>.FromArray(offset, g.N, g.OutH, g.OutW, g.Group * g.Points * 2),
            Tensor<double>.FromArray(mask, g.N, g.OutH, g.OutW, g.Group * g.Points), g.Kernel, g.Stride, g.Padding, g.Dilation, g.Group,
            g.GroupChannels, g.Scale, g.RemoveCenter);
        var actual = Functional.Dcnv4(input, offsetMask, g.Kernel, g.Stride, g.Padding, g.Dilation, g.Group, g.GroupChannels, g.Scale, g.RemoveCenter);
        Support.TensorAssert.Close(expected, actual, SameMathTolerance, "Dcnv4 against Dcnv3");
    }

    [TestMethod]
    public void Dcnv3_ZeroOffsetsUnitKernel_CopiesTheInputTimesTheMask()
    {
        // A 1×1 kernel at zero offset samples each pixel exactly: out = m · input.
        var input = Tensor<double>.Randn(9, 2, 3, 4, 6);
        var mask = Tensor<double>.Randn(10, 2, 3, 4, 2);
        var output = Functional.Dcnv3(input, Tensor<double>.Zeros(2, 3, 4, 4), mask, (1, 1), group: 2);
        var x = input.ToArray();
        var m = mask.ToArray();
        var expected = new double[x.Length];
        for (int i = 0; i < x.Length; i++) expected[i] = x[i] * m[i / 6 * 2 + i % 6 / 3];
        CollectionAssert.AreEqual(expected, output.ToArray());
    }

    [TestMethod]
    public void Dcnv3_PointsOnTheBorder_FollowGridSampleRule()
    {
        // One 1×2 map, one channel, a 1×1 kernel and stride (1, 2) for a single output: the offset moves its point. At x = −1 the sample is
        // 0 but ∂out/∂x = v(0) (the right-hand corner, grid_sample's floor convention); at x = W it is 0 with
        // no gradient; at x = W − 1 = 1 the slope is (0 − v(1)) towards the zero outside.
        var input = Tensor<double>.FromArray([3.0, 5.0], 1, 1, 2, 1);
        (double X, double Sample, double Slope)[] cases = [(-1, 0, 3), (-1.5, 0, 0), (0, 3, 2), (0.25, 3.5, 2), (1, 5, -5), (2, 0, 0), (1.5, 2.5, -5)];
        foreach (var (x, sample, slope) in cases)
        {
            var offset = Tensor<double>.FromArray([x, 0.0], 1, 1, 1, 2);
            offset.RequiresGrad = true;
            var output = Functional.Dcnv3(input, offset, Tensor<double>.Ones(1, 1, 1, 1), (1, 1), stride: (1, 2));
            output.Backward();
            Assert.AreEqual(sample, output.Item(), 1e-15, $"sample at x = {x}");
            Assert.AreEqual(slope, offset.Grad![0, 0, 0, 0], 1e-15, $"slope at x = {x}");
        }
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

[TestClass]
public class DeformConv2dTests
{
    // Two evaluations of the same sums in a different order (or with an added exact zero) in double.
    private const double SameMathTolerance = 1e-13;

    private static Tensor<double> Offsets(long seed, int n, int channels, int h, int w, double scale = 1.5) =>
        GradCheck.KeepOffIntegers(Tensor<double>.Randn(seed, n, channels, h, w).MulScalar(scale));

    [TestMethod]
    [DataRow(1, 1, 0, 1, 1, false, false, DisplayName = "1x1 v1")]
    [DataRow(3, 1, 1, 1, 1, true, true, DisplayName = "3x3 pad1 mask bias")]
    [DataRow(3, 2, 1, 1, 1, true, false, DisplayName = "3x3 stride2 mask")]
    [DataRow(3, 1, 2, 2, 1, false, true, DisplayName = "3x3 dilation2 bias")]
    [DataRow(3, 1, 1, 1, 2, true, true, DisplayName = "3x3 groups2 mask bias")]
    public void DeformConv2d_GradCheck_PassesForEveryInput(int k, int stride, int pad, int dilation, int groups, bool useMask, bool useBias)
    {
        const int n = 2, c = 4, h = 5, w = 6, outC = 4, offsetGroups = 2;
        int oh = (h + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
        int ow = (w + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
        var inputs = new List<Tensor<double>>
        {
            Tensor<double>.Randn(1, n, c, h, w),
            Offsets(2, n, 2 * offsetGroups * k * k, oh, ow),
            Tensor<double>.Randn(3, outC, c / groups, k, k),
        };
        var names = new List<string> { "input", "offset", "weight" };
        if (useBias) { inputs.Add(Tensor<double>.Randn(4, outC)); names.Add("bias"); }
        if (useMask) { inputs.Add(Tensor<double>.Rand(5, n, offsetGroups * k * k, oh, ow)); names.Add("mask"); }

        var result = GradCheck.Check(t => Functional.DeformConv2d(t[0], t[1], t[2],
                useBias ? t[3] : null, (stride, stride), (pad, pad), (dilation, dilation), useMask ? t[^1] : null),
            inputs.ToArray(), names: names.ToArray());
        Console.WriteLine(result);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DataRow(1, 0, 1, 1)]
    [DataRow(3, 1, 1, 1)]
    [DataRow(3, 0, 2, 2)]
    public void Conv2d_GradCheck_PassesForEveryInput(int k, int pad, int stride, int groups)
    {
        var result = GradCheck.Check(t => Functional.Conv2d(t[0], t[1], t[2], (stride, stride), (pad, pad), (1, 1), groups),
            [Tensor<double>.Randn(1, 2, 4, 5, 6), Tensor<double>.Randn(2, 4, 4 / groups, k, k), Tensor<double>.Randn(3, 4)],
            names: ["input", "weight", "bias"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    public void Conv2d_HandComputed_MatchesDirectSum()
    {
        // 1×1×3×3 input 1..9, 2×2 kernel of ones, stride 1: each output is the sum of a 2×2 window.
        var input = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        var output = Functional.Conv2d(input, Tensor<double>.Ones(1, 1, 2, 2), Tensor<double>.FromArray([0.5], 1));
        CollectionAssert.AreEqual(new[] { 12.5, 16.5, 24.5, 28.5 }, output.ToArray());
    }

    [TestMethod]
    [DataRow(3, 1, 1, 1, 1)]
    [DataRow(3, 2, 1, 2, 2)]
    [DataRow(5, 1, 2, 1, 1)]
    [DataRow(1, 2, 0, 1, 4)]
    public void DeformConv2d_ZeroOffsetsNoMask_EqualsConv2d(int k, int stride, int pad, int dilation, int groups)
    {
        var input = Tensor<double>.Randn(11, 2, 4, 9, 8);
        var weight = Tensor<double>.Randn(12, 8, 4 / groups, k, k);
        var bias = Tensor<double>.Randn(13, 8);
        var conv = Functional.Conv2d(input, weight, bias, (stride, stride), (pad, pad), (dilation, dilation), groups);
        var offset = Tensor<double>.Zeros(2, 2 * k * k, conv.Dim(2), conv.Dim(3));
        var deform = Functional.DeformConv2d(input, offset, weight, bias, (stride, stride), (pad, pad), (dilation, dilation));
        TensorAssert.Close(conv, deform, SameMathTolerance, "DeformConv2d with zero offsets");
    }

    [TestMethod]
    public void DeformConv2d_MaskOfOnes_EqualsNoMask()
    {
        var input = Tensor<double>.Randn(21, 2, 6, 7, 7);
        var offset = Offsets(22, 2, 2 * 3 * 9, 7, 7);
        var weight = Tensor<double>.Randn(23, 4, 6, 3, 3);
        var v1 = Functional.DeformConv2d(input, offset, weight, padding: (1, 1));
        var v2 = Functional.DeformConv2d(input, offset, weight, padding: (1, 1), mask: Tensor<double>.Ones(2, 3 * 9, 7, 7));
        TensorAssert.Close(v1, v2, SameMathTolerance, "mask of ones");
    }

    [TestMethod]
    public void DeformConv2d_BatchOf33_EachImageMatchesItsOwnCall()
    {
        var input = Tensor<float>.Randn(31, 33, 3, 6, 5);
        var offset = Tensor<float>.Randn(32, 33, 18, 6, 5);
        var mask = Tensor<float>.Rand(33, 33, 9, 6, 5);
        var weight = Tensor<float>.Randn(34, 2, 3, 3, 3);
        var all = Functional.DeformConv2d(input, offset, weight, padding: (1, 1), mask: mask);
        Assert.AreEqual(33, all.Dim(0));
        foreach (int n in new[] { 0, 17, 32 })
        {
            var single = Functional.DeformConv2d(input.Slice(0, n, 1), offset.Slice(0, n, 1), weight,
                padding: (1, 1), mask: mask.Slice(0, n, 1));
            TensorAssert.Close(single, all.Slice(0, n, 1), 1e-6, $"image {n}");
        }
    }

    [TestMethod]
    public void DeformConv2d_NonFiniteAndHugeOffsets_ReadZeroWithZeroOffsetGradient()
    {
        var input = Tensor<double>.Randn(41, 1, 2, 4, 4);
        input.RequiresGrad = true;
        var data = new double[2 * 1 * 4 * 4];
        double[] bad = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e6, -1e6];
        for (int i = 0; i < data.Length; i++) data[i] = bad[i % bad.Length];
        var offset = Tensor<double>.FromArray(data, 1, 2, 4, 4);
        offset.RequiresGrad = true;
        var weight = Tensor<double>.Randn(42, 3, 2, 1, 1);
        weight.RequiresGrad = true;
        var output = Functional.DeformConv2d(input, offset, weight);
        TensorAssert.AllEqual(output, 0.0, "output");
        output.Sum().Backward();
        TensorAssert.AllEqual(offset.Grad!, 0.0, "grad offset");
        TensorAssert.AllEqual(input.Grad!, 0.0, "grad input");
        TensorAssert.AllEqual(weight.Grad!, 0.0, "grad weight");
    }

    [TestMethod]
    public void DeformConv2d_OnlyWeightNeedsGrad_LeavesOthersNull()
    {
        var input = Tensor<double>.Randn(51, 1, 2, 5, 5);
        var offset = Offsets(52, 1, 18, 5, 5);
        var weight = Tensor<double>.Randn(53, 2, 2, 3, 3);
        weight.RequiresGrad = true;
        Functional.DeformConv2d(input, offset, weight, padding: (1, 1)).Sum().Backward();
        Assert.IsNotNull(weight.Grad);
        Assert.IsNull(input.Grad);
        Assert.IsNull(offset.Grad);
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>DeformConv2d and Conv2d against finite differences and against each other, on every backend.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class DeformConv2dTests
{
    // Two evaluations of the same sums in a different order (or with an added exact zero) in double.
    private const double SameMathTolerance = 1e-13;
    // One image against a batch of 33 in float: the same sums, chunked differently.
    private const double BatchFloatTolerance = 1e-6;

    private static Tensor<double> Offsets(long seed, int n, int channels, int h, int w, double scale = 1.5) =>
        GradCheck.KeepOffIntegers(Tensor<double>.Randn(seed, n, channels, h, w).MulScalar(scale));

    public static IEnumerable<object[]> Backends => TestBackends.All;

    public static IEnumerable<object[]> DeformGradCheckRows => TestBackends.Cross(TestBackends.Names, new object[][]
    {
        [1, 1, 0, 1, 1, false, false], // 1x1 v1
        [3, 1, 1, 1, 1, true, true], // 3x3 pad1 mask bias
        [3, 2, 1, 1, 1, true, false], // 3x3 stride2 mask
        [3, 1, 2, 2, 1, false, true], // 3x3 dilation2 bias
        [3, 1, 1, 1, 2, true, true], // 3x3 groups2 mask bias
    });

    [TestMethod]
    [DynamicData(nameof(DeformGradCheckRows))]
    public void DeformConv2d_GradCheck_PassesForEveryInput(string backend, int k, int stride, int pad, int dilation, int groups,
        bool useMask, bool useBias)
    {
        using var target = TestBackends.Open<double>(backend);
        // A device runs each of GradCheck's two evaluations per input element as several kernel launches and
        // copies (about a millisecond each on ILGPU's CPU accelerator), so its rows take a smaller problem with
        // the same hyper-parameters.
        var (n, c, h, w, outC, offsetGroups) = target.IsCpu ? (2, 4, 5, 6, 4, 2) : (1, 2, 3, 4, 2, 1);
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

        var result = GradCheck.Check(target.Run<double>(t => Functional.DeformConv2d(t[0], t[1], t[2],
                useBias ? t[3] : null, (stride, stride), (pad, pad), (dilation, dilation), useMask ? t[^1] : null)),
            inputs.ToArray(), names: names.ToArray());
        Console.WriteLine(result);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    public static IEnumerable<object[]> ConvGradCheckRows => TestBackends.Cross(TestBackends.Names, new object[][]
    {
        [1, 0, 1, 1],
        [3, 1, 1, 1],
        [3, 0, 2, 2],
    });

    [TestMethod]
    [DynamicData(nameof(ConvGradCheckRows))]
    public void Conv2d_GradCheck_PassesForEveryInput(string backend, int k, int pad, int stride, int groups)
    {
        using var target = TestBackends.Open<double>(backend);
        var result = GradCheck.Check(target.Run<double>(t => Functional.Conv2d(t[0], t[1], t[2], (stride, stride), (pad, pad), (1, 1), groups)),
            [Tensor<double>.Randn(1, 2, 4, 5, 6), Tensor<double>.Randn(2, 4, 4 / groups, k, k), Tensor<double>.Randn(3, 4)],
            names: ["input", "weight", "bias"]);
        Assert.IsTrue(result.Passed, result.ToString());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Conv2d_HandComputed_MatchesDirectSum(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // 1×1×3×3 input 1..9, 2×2 kernel of ones, stride 1: each output is the sum of a 2×2 window.
        var input = Tensor<double>.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        var output = Functional.Conv2d(target.On(input), target.On(Tensor<double>.Ones(1, 1, 2, 2)), target.On(Tensor<double>.FromArray([0.5], 1)));
        CollectionAssert.AreEqual(new[] { 12.5, 16.5, 24.5, 28.5 }, output.ToArray());
    }

    public static IEnumerable<object[]> ZeroOffsetRows => TestBackends.Cross(TestBackends.Names, new object[][]
    {
        [3, 1, 1, 1, 1],
        [3, 2, 1, 2, 2],
        [5, 1, 2, 1, 1],
        [1, 2, 0, 1, 4],
    });

    [TestMethod]
    [DynamicData(nameof(ZeroOffsetRows))]
    public void DeformConv2d_ZeroOffsetsNoMask_EqualsConv2d(string backend, int k, int stride, int pad, int dilation, int groups)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = target.On(Tensor<double>.Randn(11, 2, 4, 9, 8));
        var weight = target.On(Tensor<double>.Randn(12, 8, 4 / groups, k, k));
        var bias = target.On(Tensor<double>.Randn(13, 8));
        var conv = Functional.Conv2d(input, weight, bias, (stride, stride), (pad, pad), (dilation, dilation), groups);
        var offset = target.On(Tensor<double>.Zeros(2, 2 * k * k, conv.Dim(2), conv.Dim(3)));
        var deform = Functional.DeformConv2d(input, offset, weight, bias, (stride, stride), (pad, pad), (dilation, dilation));
        TensorAssert.Close(conv, deform, SameMathTolerance, "DeformConv2d with zero offsets");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_MaskOfOnes_EqualsNoMask(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = target.On(Tensor<double>.Randn(21, 2, 6, 7, 7));
        var offset = target.On(Offsets(22, 2, 2 * 3 * 9, 7, 7));
        var weight = target.On(Tensor<double>.Randn(23, 4, 6, 3, 3));
        var v1 = Functional.DeformConv2d(input, offset, weight, padding: (1, 1));
        var v2 = Functional.DeformConv2d(input, offset, weight, padding: (1, 1), mask: target.On(Tensor<double>.Ones(2, 3 * 9, 7, 7)));
        TensorAssert.Close(v1, v2, SameMathTolerance, "mask of ones");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_BatchOf33_EachImageMatchesItsOwnCall(string backend)
    {
        using var target = TestBackends.Open<float>(backend);
        var input = Tensor<float>.Randn(31, 33, 3, 6, 5);
        var offset = Tensor<float>.Randn(32, 33, 18, 6, 5);
        var mask = Tensor<float>.Rand(33, 33, 9, 6, 5);
        var weight = target.On(Tensor<float>.Randn(34, 2, 3, 3, 3));
        var all = Functional.DeformConv2d(target.On(input), target.On(offset), weight, padding: (1, 1), mask: target.On(mask));
        Assert.AreEqual(33, all.Dim(0));
        foreach (int n in new[] { 0, 17, 32 })
        {
            var single = Functional.DeformConv2d(target.On(input.Slice(0, n, 1)), target.On(offset.Slice(0, n, 1)), weight,
                padding: (1, 1), mask: target.On(mask.Slice(0, n, 1)));
            TensorAssert.Close(single, all.Slice(0, n, 1), BatchFloatTolerance, $"image {n}");
        }
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_NonFiniteAndHugeOffsets_ReadZeroWithZeroOffsetGradient(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(41, 1, 2, 4, 4);
        input.RequiresGrad = true;
        var data = new double[2 * 1 * 4 * 4];
        double[] bad = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1e6, -1e6];
        for (int i = 0; i < data.Length; i++) data[i] = bad[i % bad.Length];
        var offset = Tensor<double>.FromArray(data, 1, 2, 4, 4);
        offset.RequiresGrad = true;
        var weight = Tensor<double>.Randn(42, 3, 2, 1, 1);
        weight.RequiresGrad = true;
        var output = Functional.DeformConv2d(target.On(input), target.On(offset), target.On(weight));
        TensorAssert.AllEqual(output, 0.0, "output");
        output.Sum().Backward();
        TensorAssert.AllEqual(offset.Grad!, 0.0, "grad offset");
        TensorAssert.AllEqual(input.Grad!, 0.0, "grad input");
        TensorAssert.AllEqual(weight.Grad!, 0.0, "grad weight");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_OnlyWeightNeedsGrad_LeavesOthersNull(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var input = Tensor<double>.Randn(51, 1, 2, 5, 5);
        var offset = Offsets(52, 1, 18, 5, 5);
        var weight = Tensor<double>.Randn(53, 2, 2, 3, 3);
        weight.RequiresGrad = true;
        Functional.DeformConv2d(target.On(input), target.On(offset), target.On(weight), padding: (1, 1)).Sum().Backward();
        Assert.IsNotNull(weight.Grad);
        Assert.IsNull(input.Grad);
        Assert.IsNull(offset.Grad);
    }
}

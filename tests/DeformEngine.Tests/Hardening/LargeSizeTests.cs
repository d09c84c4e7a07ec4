using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Hardening;

/// <summary>Huge but valid sizes and sizes whose arithmetic overflows 32 bits: a valid call gives
/// PyTorch's numbers quickly (windows clipped to the input, divisors in 64 bits), an invalid one a
/// named <see cref="ArgumentException"/>, never a hang, an overflowed index or garbage.</summary>
[TestClass]
[DoNotParallelize] // switches the process-wide EngineOptions
public class LargeSizeTests
{
    private const int Huge = 1 << 30;
    // A test that would walk a 2^30-wide window takes minutes; the clipped one takes milliseconds.
    private const int FastMilliseconds = 20_000;

    private static Tensor<double> Input3x3() => Tensor<double>.FromArray([1, -2, 3, 0.5, 7, -1, 2, 4, -3], 1, 1, 3, 3);

    [TestMethod]
    [Timeout(FastMilliseconds)]
    public void MaxPool2d_KernelTwoToThirty_ClipsWindowToInput()
    {
        var input = Input3x3();
        input.RequiresGrad = true;
        var output = Functional.MaxPool2d(input, (Huge, Huge), (1, 1), (Huge / 2, Huge / 2));
        // Every window covers the whole 3×3 input: out = max = 7 at (1, 1), 4×4 windows.
        CollectionAssert.AreEqual(new[] { 1, 1, 4, 4 }, output.Shape);
        TensorAssert.AllEqual(output, 7.0, "output");
        output.Sum().Backward();
        Assert.AreEqual(16.0, input.Grad![0, 0, 1, 1], "all 16 windows route their gradient to the maximum");
    }

    [TestMethod]
    public void AvgPool2d_KernelAndPaddingTwoToThirty_ThrowsNamingPadding()
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Functional.AvgPool2d(Input3x3(), (Huge, Huge), (1, 1), (Huge, Huge)));
        Assert.AreEqual("padding", error.ParamName);
        StringAssert.Contains(error.Message, Huge.ToString());
    }

    [TestMethod]
    [Timeout(FastMilliseconds)]
    public void AvgPool2d_KernelTwoToThirty_DividesByTwoToSixty()
    {
        var input = Input3x3();
        input.RequiresGrad = true;
        var output = Functional.AvgPool2d(input, (Huge, Huge), (1, 1), (Huge / 2, Huge / 2));
        // count_include_pad: every window is 2^30 × 2^30 positions of the padded input.
        double expected = input.ToArray().Sum() / Math.Pow(2, 60);
        CollectionAssert.AreEqual(new[] { 1, 1, 4, 4 }, output.Shape);
        TensorAssert.AllEqual(output, expected, "output");
        output.Sum().Backward();
        TensorAssert.AllEqual(input.Grad!, 16 / Math.Pow(2, 60), "gradient");

        var excluding = Functional.AvgPool2d(Input3x3(), (Huge, Huge), (1, 1), (Huge / 2, Huge / 2), countIncludePad: false);
        TensorAssert.AllEqual(excluding, input.ToArray().Sum() / 9, "count_include_pad = false divides by the 9 input positions");
    }

    [TestMethod]
    public void AdaptiveAvgPool2d_OutputTwoToTwentySquared_ThrowsNamingOutputSize()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => Functional.AdaptiveAvgPool2d(Input3x3(), (1 << 20, 1 << 20)));
        Assert.AreEqual("outputSize", error.ParamName);
        StringAssert.Contains(error.Message, "1048576");
    }

    [TestMethod]
    public void AdaptiveAvgPool2d_BinProductsPastTwoToThirtyOne_PyTorchBins()
    {
        // oy·H reaches 2^19 · 4096 = 2^31: row oy averages input row ⌊oy / 128⌋ alone.
        var input = Tensor<double>.Randn(5, 1, 1, 4096, 1);
        var output = Functional.AdaptiveAvgPool2d(input, (1 << 19, 1));
        var x = input.ToArray();
        var y = output.ToArray();
        for (int oy = 0; oy < y.Length; oy += 997)
            Assert.AreEqual(x[oy / 128], y[oy], $"row {oy}");
        Assert.AreEqual(x[^1], y[^1], "last row");
    }

    [TestMethod]
    [DynamicData(nameof(EnginePaths.Both), typeof(EnginePaths))]
    public void Conv2d_Padding30000_ThrowsNamingPadding(bool reference)
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => EnginePaths.Run(reference, () =>
            Functional.Conv2d(Tensor<float>.Zeros(1, 1, 4, 4), Tensor<float>.Zeros(1, 1, 3, 3), padding: (30000, 30000))));
        Assert.AreEqual("padding", error.ParamName);
        StringAssert.Contains(error.Message, "30000");
    }

    [TestMethod]
    public void Conv2dAndDeformConv2d_DilatedKernelOnePastInputStride2_ThrowsNamingInput()
    {
        // Extent 2·(3 − 1) + 1 = 5 > 4: (4 − 5) / 2 + 1 must floor to 0 windows (PyTorch refuses), not truncate to 1.
        var input = Tensor<float>.Zeros(1, 1, 4, 4);
        var weight = Tensor<float>.Zeros(1, 1, 3, 3);
        var conv = Assert.ThrowsExactly<ArgumentException>(() => Functional.Conv2d(input, weight, stride: (2, 2), dilation: (2, 2)));
        Assert.AreEqual("input", conv.ParamName);
        var deform = Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.DeformConv2d(input, Tensor<float>.Zeros(1, 18, 1, 1), weight, stride: (2, 2), dilation: (2, 2)));
        Assert.AreEqual("input", deform.ParamName);
    }

    [TestMethod]
    public void Conv2d_PaddingIntMax_ThrowsNamingPadding()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.Conv2d(Tensor<float>.Zeros(1, 1, 4, 4), Tensor<float>.Zeros(1, 1, 3, 3), padding: (int.MaxValue, 0)));
        Assert.AreEqual("padding", error.ParamName);
    }

    [TestMethod]
    public void Conv2d_DilationIntMax_ThrowsNamingTheKernelExtent()
    {
        // dil·(k − 1) overflows 32 bits; the kernel's extent cannot fit the input.
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.Conv2d(Tensor<float>.Zeros(1, 1, 4, 4), Tensor<float>.Zeros(1, 1, 3, 3), dilation: (int.MaxValue, 1)));
        Assert.AreEqual("input", error.ParamName);
        StringAssert.Contains(error.Message, "2147483647");
    }

    [TestMethod]
    public void Conv2d_ColumnMatrixBeyondAnArray_ThrowsNamingInput()
    {
        // The output [1, 1, 7938, 7938] fits an array, one image's column matrix (256² rows × 7938² columns) does not.
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.Conv2d(Tensor<float>.Zeros(1, 1, 1, 1), Tensor<float>.Zeros(1, 1, 256, 256), padding: (4096, 4096)));
        Assert.AreEqual("input", error.ParamName);
        StringAssert.Contains(error.Message, "column");
    }

    [TestMethod]
    public void BilinearSample_OutputBeyondAnArray_ThrowsNamingCoords()
    {
        // [1, 2^16, 1, 1] sampled at 2^16 points: 2^32 outputs.
        var error = Assert.ThrowsExactly<ArgumentException>(() =>
            Functional.BilinearSample(Tensor<float>.Zeros(1, 1 << 16, 1, 1), Tensor<float>.Zeros(1, 1 << 16, 2)));
        Assert.AreEqual("coords", error.ParamName);
    }

    [TestMethod]
    public void MaxPool2d_StrideIntMaxWithPadding_OneWindowNoOverflow()
    {
        var output = Functional.MaxPool2d(Input3x3(), (3, 3), (int.MaxValue, int.MaxValue), (1, 1));
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 1 }, output.Shape);
        Assert.AreEqual(7.0, output.Item());
    }
}

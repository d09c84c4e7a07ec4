using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>The hardening rules of the CPU paths (Hardening/) on each device's kernels: an empty batch gives empty
/// outputs and zero parameter gradients (BatchNorm2d leaves its running statistics alone), max pooling clips a
/// 2^30 window to the input in 64 bits, average pooling divides by 2^60 in 64 bits; closed forms, as there.</summary>
[TestClass]
public class GpuHardeningTests
{
    private const int Huge = 1 << 30;
    // A kernel that walked a 2^30-wide window would run for minutes; the clipped one takes milliseconds.
    private const int FastMilliseconds = 20_000;

    private static Tensor<double> Leaf(Tensor<double> t)
    {
        t.RequiresGrad = true;
        return t;
    }

    private static void AssertShape(int[] expected, Tensor<double> actual, string what) =>
        CollectionAssert.AreEqual(expected, actual.Shape, $"{what}: shape {ShapeMath.Format(actual.Shape)}");

    private static void AssertZeroGrad(Tensor<double> leaf, string what)
    {
        Assert.IsNotNull(leaf.Grad, $"{what}: gradient missing");
        AssertShape(leaf.Shape, leaf.Grad, what);
        TensorAssert.AllEqual(leaf.Grad, 0.0, what);
    }

    private static Tensor<double> Input3x3() => Tensor<double>.FromArray([1, -2, 3, 0.5, 7, -1, 2, 4, -3], 1, 1, 3, 3);

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void ConvolutionsAndSampling_BatchZero_EmptyOutputAndZeroGradients(string backend)
    {
        var device = GpuTestDevices.Shared<double>(backend);
        var input = Leaf(Tensor<double>.Zeros(0, 4, 7, 6));
        var offset = Leaf(Tensor<double>.Zeros(0, 2 * 2 * 9, 7, 6));
        var mask = Leaf(Tensor<double>.Zeros(0, 2 * 9, 7, 6));
        var weight = Leaf(Tensor<double>.Randn(1, 6, 2, 3, 3));
        var bias = Leaf(Tensor<double>.Randn(2, 6));
        var deform = Functional.DeformConv2d(input.To(device), offset.To(device), weight.To(device), bias.To(device),
            padding: (1, 1), mask: mask.To(device));
        AssertShape([0, 6, 7, 6], deform, "DeformConv2d output");
        var conv = Functional.Conv2d(input.To(device), weight.To(device), bias.To(device), (2, 2), (1, 1), groups: 2);
        AssertShape([0, 6, 4, 3], conv, "Conv2d output");
        deform.Sum().Add(conv.Sum()).Backward();
        foreach (var (leaf, name) in new[] { (input, "input"), (offset, "offset"), (mask, "mask"), (weight, "weight"), (bias, "bias") })
            AssertZeroGrad(leaf, name);

        var coords = Leaf(Tensor<double>.Rand(3, 0, 5, 2));
        var samples = Functional.BilinearSample(input.To(device), coords.To(device));
        AssertShape([0, 4, 5], samples, "BilinearSample output");
        samples.Sum().Backward();
        AssertZeroGrad(coords, "coords");
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void PoolingAndLinear_BatchZero_EmptyOutputAndZeroGradients(string backend)
    {
        var device = GpuTestDevices.Shared<double>(backend);
        var cases = new (string Name, Func<Tensor<double>, Tensor<double>> Op, int[] Shape)[]
        {
            ("MaxPool2d", x => Functional.MaxPool2d(x, (2, 2)), [0, 3, 3, 2]),
            ("AvgPool2d", x => Functional.AvgPool2d(x, (3, 3), (1, 1), (1, 1)), [0, 3, 6, 5]),
            ("AdaptiveAvgPool2d", x => Functional.AdaptiveAvgPool2d(x, (2, 3)), [0, 3, 2, 3]),
        };
        foreach (var (name, op, shape) in cases)
        {
            var input = Leaf(Tensor<double>.Zeros(0, 3, 6, 5));
            var y = op(input.To(device));
            AssertShape(shape, y, name);
            y.Sum().Backward();
            AssertZeroGrad(input, name);
        }

        var rows = Leaf(Tensor<double>.Zeros(0, 4));
        var weight = Leaf(Tensor<double>.Randn(1, 3, 4));
        var bias = Leaf(Tensor<double>.Randn(2, 3));
        var linear = Functional.Linear(rows.To(device), weight.To(device), bias.To(device));
        AssertShape([0, 3], linear, "Linear");
        linear.Sum().Backward();
        AssertZeroGrad(weight, "Linear weight");
        AssertZeroGrad(bias, "Linear bias");
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void BatchNorm2d_TrainingOnBatchZero_ZeroGradientsRunningStatisticsKept(string backend)
    {
        var device = GpuTestDevices.Shared<double>(backend);
        var input = Leaf(Tensor<double>.Zeros(0, 3, 4, 4));
        var weight = Leaf(Tensor<double>.Ones(3));
        var bias = Leaf(Tensor<double>.Zeros(3));
        var runningMean = Tensor<double>.FromArray([0.5, -1, 2], 3).To(device);
        var runningVar = Tensor<double>.FromArray([1.5, 2, 3], 3).To(device);
        var y = Functional.BatchNorm2d(input.To(device), runningMean, runningVar, weight.To(device), bias.To(device), training: true);
        AssertShape([0, 3, 4, 4], y, "output");
        y.Sum().Backward();
        AssertZeroGrad(input, "input");
        AssertZeroGrad(weight, "weight");
        AssertZeroGrad(bias, "bias");
        CollectionAssert.AreEqual(new[] { 0.5, -1, 2 }, runningMean.ToArray(), "running mean (PyTorch leaves it)");
        CollectionAssert.AreEqual(new[] { 1.5, 2, 3 }, runningVar.ToArray(), "running variance (PyTorch leaves it)");
    }

    [TestMethod]
    [Timeout(FastMilliseconds)]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void MaxPool2d_KernelTwoToThirty_ClipsWindowToInput(string backend)
    {
        var device = GpuTestDevices.Shared<double>(backend);
        var input = Leaf(Input3x3());
        var output = Functional.MaxPool2d(input.To(device), (Huge, Huge), (1, 1), (Huge / 2, Huge / 2));
        // Every window covers the whole 3×3 input: out = max = 7 at (1, 1), 4×4 windows.
        AssertShape([1, 1, 4, 4], output, "output");
        TensorAssert.AllEqual(output, 7.0, "output");
        output.Sum().Backward();
        Assert.AreEqual(16.0, input.Grad![0, 0, 1, 1], "all 16 windows route their gradient to the maximum");

        var strided = Functional.MaxPool2d(Input3x3().To(device), (3, 3), (int.MaxValue, int.MaxValue), (1, 1));
        AssertShape([1, 1, 1, 1], strided, "stride 2^31 − 1");
        Assert.AreEqual(7.0, strided.Item(), "stride 2^31 − 1");
    }

    [TestMethod]
    [Timeout(FastMilliseconds)]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void AvgPool2d_KernelTwoToThirty_DividesByTwoToSixty(string backend)
    {
        var device = GpuTestDevices.Shared<double>(backend);
        var input = Leaf(Input3x3());
        var output = Functional.AvgPool2d(input.To(device), (Huge, Huge), (1, 1), (Huge / 2, Huge / 2));
        // count_include_pad: every window is 2^30 × 2^30 positions of the padded input.
        double sum = Input3x3().ToArray().Sum();
        AssertShape([1, 1, 4, 4], output, "output");
        TensorAssert.AllEqual(output, sum / Math.Pow(2, 60), "output");
        output.Sum().Backward();
        TensorAssert.AllEqual(input.Grad!, 16 / Math.Pow(2, 60), "gradient");

        var excluding = Functional.AvgPool2d(Input3x3().To(device), (Huge, Huge), (1, 1), (Huge / 2, Huge / 2), countIncludePad: false);
        TensorAssert.AllEqual(excluding, sum / 9, "count_include_pad = false divides by the 9 input positions");
    }
}

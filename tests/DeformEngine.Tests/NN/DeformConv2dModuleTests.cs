using DeformEngine.NN;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

[TestClass]
public class DeformConv2dModuleTests
{
    /// <summary>Zero offsets sample the integer grid exactly, so the deformable and plain paths
    /// differ only by summation order.</summary>
    private const double SamePathTolerance = 1e-12;

    [TestMethod]
    public void DeformConv2d_Defaults_AreThoseOfThePyTorchImplementation()
    {
        var layer = new DeformConv2d<double>(3, 5, random: new SeededRandom(1));
        Assert.AreEqual(new Size2(3, 3), layer.KernelSize);
        Assert.AreEqual(new Size2(1, 1), layer.Padding);
        Assert.AreEqual(new Size2(1, 1), layer.Stride);
        Assert.IsNull(layer.Bias);
        Assert.IsFalse(layer.Modulation);
        CollectionAssert.AreEqual(new[] { 2, 5, 7, 6 }, layer.Forward(Tensor<double>.Randn(2, 2, 3, 7, 6)).Shape);
        CollectionAssert.AreEqual(new[] { "weight", "conv_offset.weight", "conv_offset.bias" }, layer.StateDict().Keys.ToArray());
        Assert.AreEqual(5 * 3 * 9 + 18 * 3 * 9 + 18, layer.ParameterCount);
    }

    [TestMethod]
    public void DeformConv2d_Modulated_HasMmcvBranchShapes()
    {
        var layer = new DeformConv2d<double>(4, 6, kernelSize: (3, 5), padding: (1, 2), stride: 2, bias: true, modulation: true,
            dilation: (2, 1), groups: 2, offsetGroups: 2, random: new SeededRandom(3));
        // mmcv's ModulatedDeformConv2dPack: conv_offset produces 3·G·kh·kw channels (offsets, then masks).
        CollectionAssert.AreEqual(new[] { 3 * 2 * 15, 4, 3, 5 }, layer.ConvOffset.Weight.Shape);
        CollectionAssert.AreEqual(new[] { 6, 2, 3, 5 }, layer.Weight.Shape);
        var y = layer.Forward(Tensor<double>.Randn(4, 1, 4, 9, 8));
        CollectionAssert.AreEqual(new[] { 1, 6, 4, 4 }, y.Shape);
        CollectionAssert.AreEqual(new[] { 1, 60, 4, 4 }, layer.LastOffset!.Shape);
        CollectionAssert.AreEqual(new[] { 1, 30, 4, 4 }, layer.LastMask!.Shape);
        Assert.AreEqual(6 * 2 * 15 + 6 + 90 * 4 * 15 + 90, layer.ParameterCount);
    }

    [TestMethod]
    public void DeformConv2d_AtInit_IsThePlainConvolution()
    {
        var x = Tensor<double>.Randn(5, 2, 3, 6, 7);
        foreach (var kernel in new Size2[] { 1, 3, 5, (3, 5) })
        {
            var padding = new Size2(kernel.H / 2, kernel.W / 2);
            var dcn = new DeformConv2d<double>(3, 4, kernel, padding, bias: true, random: new SeededRandom(6));
            var conv = new Conv2d<double>(3, 4, kernel, padding: padding, random: new SeededRandom(6));
            TensorAssert.AllEqual(dcn.LastOffset ?? Tensor<double>.Zeros(1), 0.0, "no forward yet");
            TensorAssert.Close(conv.Forward(x), dcn.Forward(x), SamePathTolerance, $"DCNv1 with kernel {kernel}");
            TensorAssert.AllEqual(dcn.LastOffset!, 0.0, "zero-initialised offsets");
        }
    }

    [TestMethod]
    public void DeformConv2d_ModulatedAtInit_IsHalfThePlainConvolution()
    {
        // σ(0) = 0.5 scales every sample, so without bias the output is half the plain one.
        var x = Tensor<double>.Randn(7, 1, 2, 5, 5);
        var dcn = new DeformConv2d<double>(2, 3, modulation: true, random: new SeededRandom(8));
        var conv = new Conv2d<double>(2, 3, 3, padding: 1, bias: false, random: new SeededRandom(8));
        TensorAssert.Close(conv.Forward(x).MulScalar(0.5), dcn.Forward(x), SamePathTolerance, "DCNv2 output");
        TensorAssert.AllEqual(dcn.LastMask!, 0.5, "masks");
    }

    [TestMethod]
    public void DeformConv2d_Backward_ReachesTheOffsetBranch()
    {
        var dcn = new DeformConv2d<double>(2, 3, modulation: true, random: new SeededRandom(9));
        dcn.Forward(Tensor<double>.Randn(10, 2, 2, 5, 5)).Sum().Backward();
        Assert.IsTrue(dcn.ConvOffset.Weight.Grad!.ToArray().Any(v => v != 0), "offset/mask branch gets a gradient");
        Assert.IsTrue(dcn.Weight.Grad!.ToArray().Any(v => v != 0));
        CollectionAssert.AreEquivalent(dcn.ConvOffset.Parameters().ToArray(), dcn.OffsetParameters.ToArray());
    }

    [TestMethod]
    public void DeformConv2d_BadArguments_ThrowNamingThem()
    {
        Assert.AreEqual("offsetGroups", Assert.ThrowsExactly<ArgumentException>(() => new DeformConv2d<float>(3, 4, offsetGroups: 2)).ParamName);
        Assert.AreEqual("groups", Assert.ThrowsExactly<ArgumentException>(() => new DeformConv2d<float>(4, 3, groups: 2)).ParamName);
        Assert.AreEqual("kernelSize", Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new DeformConv2d<float>(4, 3, kernelSize: 0)).ParamName);
    }
}

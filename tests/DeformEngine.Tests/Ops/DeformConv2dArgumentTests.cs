namespace DeformEngine.Tests.Ops;

[TestClass]
public class DeformConv2dArgumentTests
{
    private static readonly Tensor<double> Input = Tensor<double>.Zeros(2, 4, 6, 6);
    private static readonly Tensor<double> Weight = Tensor<double>.Zeros(3, 4, 3, 3);
    private static readonly Tensor<double> Offset = Tensor<double>.Zeros(2, 18, 4, 4);

    private static void Expect<TException>(Action call, string parameter, params string[] fragments) where TException : ArgumentException
    {
        var ex = Assert.ThrowsExactly<TException>(call);
        Assert.AreEqual(parameter, ex.ParamName, ex.Message);
        foreach (var fragment in fragments) StringAssert.Contains(ex.Message, fragment);
    }

    [TestMethod]
    public void DeformConv2d_InputNot4D_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Tensor<double>.Zeros(4, 6, 6), Offset, Weight), "input", "4-D", "[4, 6, 6]");

    [TestMethod]
    public void DeformConv2d_WeightNot4D_ThrowsNamingWeight() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Offset, Tensor<double>.Zeros(3, 36)), "weight", "[3, 36]");

    [TestMethod]
    public void DeformConv2d_ChannelsNotDivisibleByWeight_ThrowsNamingWeight() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Offset, Tensor<double>.Zeros(3, 3, 3, 3)), "weight", "4 channels", "[3, 3, 3, 3]");

    [TestMethod]
    public void DeformConv2d_OutputChannelsNotDivisibleByGroups_ThrowsNamingWeight() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Offset, Tensor<double>.Zeros(3, 2, 3, 3)), "weight", "divisible by groups (2)");

    [TestMethod]
    public void DeformConv2d_OffsetChannelsNotMultipleOfKernel_ThrowsNamingOffset() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Tensor<double>.Zeros(2, 17, 4, 4), Weight), "offset", "18", "[2, 17, 4, 4]");

    [TestMethod]
    public void DeformConv2d_OffsetGroupsNotDividingChannels_ThrowsNamingOffset() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Tensor<double>.Zeros(2, 54, 4, 4), Weight), "offset", "3 offset groups", "4 input channels");

    [TestMethod]
    public void DeformConv2d_OffsetSpatialSizeWrong_ThrowsWithExpectedShape() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Tensor<double>.Zeros(2, 18, 6, 6), Weight), "offset", "[2, 18, 4, 4]", "[2, 18, 6, 6]");

    [TestMethod]
    public void DeformConv2d_OffsetBatchWrong_ThrowsWithExpectedShape() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Tensor<double>.Zeros(1, 18, 4, 4), Weight), "offset", "[2, 18, 4, 4]", "[1, 18, 4, 4]");

    [TestMethod]
    public void DeformConv2d_MaskChannelsWrong_ThrowsNamingMask() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Offset, Weight, mask: Tensor<double>.Zeros(2, 18, 4, 4)), "mask", "[2, 9, 4, 4]", "[2, 18, 4, 4]");

    [TestMethod]
    public void DeformConv2d_MaskSpatialWrong_ThrowsNamingMask() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Offset, Weight, mask: Tensor<double>.Zeros(2, 9, 5, 4)), "mask", "[2, 9, 4, 4]");

    [TestMethod]
    public void DeformConv2d_BiasWrongLength_ThrowsNamingBias() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Input, Offset, Weight, Tensor<double>.Zeros(4)), "bias", "[3]", "[4]");

    [TestMethod]
    [DataRow(0, 1)]
    [DataRow(1, -2)]
    public void DeformConv2d_NonPositiveStride_ThrowsNamingStride(int sh, int sw) =>
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformConv2d(Input, Offset, Weight, stride: (sh, sw)), "stride", "positive");

    [TestMethod]
    public void DeformConv2d_ZeroDilation_ThrowsNamingDilation() =>
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformConv2d(Input, Offset, Weight, dilation: (1, 0)), "dilation", "positive");

    [TestMethod]
    public void DeformConv2d_NegativePadding_ThrowsNamingPadding() =>
        Expect<ArgumentOutOfRangeException>(() => Functional.DeformConv2d(Input, Offset, Weight, padding: (-1, 0)), "padding", "non-negative");

    [TestMethod]
    public void DeformConv2d_KernelLargerThanImage_ThrowsWithOutputSize() =>
        Expect<ArgumentException>(() => Functional.DeformConv2d(Tensor<double>.Zeros(1, 4, 2, 2), Tensor<double>.Zeros(1, 18, 1, 1), Weight),
            "input", "0×0", "at least 1×1");

    [TestMethod]
    public void Conv2d_GroupsNotDividingChannels_ThrowsNamingWeight() =>
        Expect<ArgumentException>(() => Functional.Conv2d(Input, Tensor<double>.Zeros(3, 2, 3, 3), groups: 3), "weight", "groups (3)");

    [TestMethod]
    public void Conv2d_ZeroGroups_ThrowsNamingGroups() =>
        Expect<ArgumentOutOfRangeException>(() => Functional.Conv2d(Input, Weight, groups: 0), "groups");
}

namespace DeformEngine.Tests.Ops;

[TestClass]
public class Dcnv3ArgumentTests
{
    // N = 2, 6×6, group 2 × 3 channels; 3×3, padding 1 → 6×6 outputs, 9 points.
    private static readonly Tensor<double> Input = Tensor<double>.Zeros(2, 6, 6, 6);
    private static readonly Tensor<double> Offset = Tensor<double>.Zeros(2, 6, 6, 36);
    private static readonly Tensor<double> Mask = Tensor<double>.Zeros(2, 6, 6, 18);
    private static readonly Tensor<double> OffsetMask = Tensor<double>.Zeros(2, 6, 6, 56);

    private static void Expect<TException>(Action call, string parameter, params string[] fragments) where TException : ArgumentException
    {
        var ex = Assert.ThrowsExactly<TException>(call);
        Assert.AreEqual(parameter, ex.ParamName, ex.Message);
        foreach (var fragment in fragments) StringAssert.Contains(ex.Message, fragment);
    }

    private static Tensor<double> Dcnv3(Tensor<double>? input = null, Tensor<double>? offset = null, Tensor<double>? mask = null,
        (int, int)? kernel = null, (int, int)? stride = null, (int, int)? padding = null, (int, int)? dilation = null, int group = 2,
        int? groupChannels = null, double offsetScale = 1.0, bool removeCenter = false) =>
        Functional.Dcnv3(input ?? Input, offset ?? Offset, mask ?? Mask, kernel ?? (3, 3), stride, padding ?? (1, 1), dilation, group,
            groupChannels, offsetScale, removeCenter);

    [TestMethod]
    public void Dcnv3_InputNot4D_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Dcnv3(input: Tensor<double>.Zeros(6, 6, 6)), "input", "4-D", "[6, 6, 6]");

    [TestMethod]
    public void Dcnv3_InputEmptyDimension_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Dcnv3(input: Tensor<double>.Zeros(2, 0, 6, 6)), "input", "positive sizes", "[2, 0, 6, 6]");

    [TestMethod]
    public void Dcnv3_ChannelsNotDivisibleByGroup_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Dcnv3(group: 4), "input", "divisible by group (4)", "[2, 6, 6, 6]");

    [TestMethod]
    public void Dcnv3_GroupChannelsDisagreeWithInput_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Dcnv3(groupChannels: 4), "input", "2·4 = 8", "[2, 6, 6, 6]");

    [TestMethod]
    public void Dcnv3_OffsetForOtherGroupCount_ThrowsNamingOffsetWithExpectedShape() =>
        Expect<ArgumentException>(() => Dcnv3(offset: Tensor<double>.Zeros(2, 6, 6, 54)), "offset", "[2, 6, 6, 36]", "group 2", "9 points", "[2, 6, 6, 54]");

    [TestMethod]
    public void Dcnv3_OffsetForCenterRemoved_ThrowsNamingOffset() =>
        Expect<ArgumentException>(() => Dcnv3(removeCenter: true), "offset", "[2, 6, 6, 32]", "8 points");

    [TestMethod]
    public void Dcnv3_OffsetSpatialSizeWrong_ThrowsNamingOffset() =>
        Expect<ArgumentException>(() => Dcnv3(offset: Tensor<double>.Zeros(2, 5, 6, 36)), "offset", "[2, 6, 6, 36]", "[2, 5, 6, 36]");

    [TestMethod]
    public void Dcnv3_OffsetNot4D_ThrowsNamingOffset() =>
        Expect<ArgumentException>(() => Dcnv3(offset: Tensor<double>.Zeros(2, 36, 36)), "offset", "[2, 6, 6, 36]", "[2, 36, 36]");

    [TestMethod]
    public void Dcnv3_MaskPointsWrong_ThrowsNamingMask() =>
        Expect<ArgumentException>(() => Dcnv3(mask: Tensor<double>.Zeros(2, 6, 6, 9)), "mask", "[2, 6, 6, 18]", "[2, 6, 6, 9]");

    [TestMethod]
    public void Dcnv3_MaskBatchWrong_ThrowsNamingMask() =>
        Expect<ArgumentException>(() => Dcnv3(mask: Tensor<double>.Zeros(1, 6, 6, 18)), "mask", "[2, 6, 6, 18]");

    [TestMethod]
    public void Dcnv3_NonPositiveGroup_ThrowsOutOfRangeNamingGroup() =>
        Expect<ArgumentOutOfRangeException>(() => Dcnv3(group: 0), "group", "got 0");

    [TestMethod]
    public void Dcnv3_NonPositiveGroupChannels_ThrowsOutOfRangeNamingGroupChannels() =>
        Expect<ArgumentOutOfRangeException>(() => Dcnv3(groupChannels: -3), "groupChannels", "got -3");

    [TestMethod]
    public void Dcnv3_NonPositiveKernel_ThrowsOutOfRangeNamingKernelSize() =>
        Expect<ArgumentOutOfRangeException>(() => Dcnv3(kernel: (0, 3)), "kernelSize", "(0, 3)");

    [TestMethod]
    public void Dcnv3_NonPositiveStride_ThrowsOutOfRangeNamingStride() =>
        Expect<ArgumentOutOfRangeException>(() => Dcnv3(stride: (1, 0)), "stride", "(1, 0)");

    [TestMethod]
    public void Dcnv3_NegativePadding_ThrowsOutOfRangeNamingPadding() =>
        Expect<ArgumentOutOfRangeException>(() => Dcnv3(padding: (-1, 1)), "padding", "(-1, 1)");

    [TestMethod]
    public void Dcnv3_NonPositiveDilation_ThrowsOutOfRangeNamingDilation() =>
        Expect<ArgumentOutOfRangeException>(() => Dcnv3(dilation: (0, 0)), "dilation", "(0, 0)");

    [TestMethod]
    public void Dcnv3_NonFiniteOffsetScale_ThrowsOutOfRangeNamingOffsetScale() =>
        Expect<ArgumentOutOfRangeException>(() => Dcnv3(offsetScale: double.NaN), "offsetScale", "NaN");

    [TestMethod]
    public void Dcnv3_RemoveCenterWithEvenKernel_ThrowsNamingRemoveCenter() =>
        Expect<ArgumentException>(() => Dcnv3(kernel: (2, 2), removeCenter: true), "removeCenter", "(2, 2)");

    [TestMethod]
    public void Dcnv3_RemoveCenterWithNonSquareKernel_ThrowsNamingRemoveCenter() =>
        Expect<ArgumentException>(() => Dcnv3(kernel: (3, 5), removeCenter: true), "removeCenter", "(3, 5)");

    [TestMethod]
    public void Dcnv3_KernelLargerThanPaddedInput_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Dcnv3(kernel: (9, 9)), "input", "9×9", "expected at least 1×1");

    [TestMethod]
    public void Dcnv3_NullMask_ThrowsArgumentNull() =>
        Assert.ThrowsExactly<ArgumentNullException>(() => Functional.Dcnv3(Input, Offset, null!, (3, 3), padding: (1, 1), group: 2));

    [TestMethod]
    public void Dcnv4_OffsetMaskUnpadded_ThrowsNamingOffsetMaskWithPaddedLength() =>
        Expect<ArgumentException>(() => Functional.Dcnv4(Input, Tensor<double>.Zeros(2, 6, 6, 54), (3, 3), padding: (1, 1), group: 2),
            "offsetMask", "[2, 6, 6, 56]", "54 values", "[2, 6, 6, 54]");

    [TestMethod]
    public void Dcnv4_OffsetMaskForOtherGroupCount_ThrowsNamingOffsetMask() =>
        Expect<ArgumentException>(() => Functional.Dcnv4(Input, OffsetMask, (3, 3), padding: (1, 1), group: 3), "offsetMask", "[2, 6, 6, 88]", "group 3");

    [TestMethod]
    public void Dcnv4_OffsetMaskNot4D_ThrowsNamingOffsetMask() =>
        Expect<ArgumentException>(() => Functional.Dcnv4(Input, Tensor<double>.Zeros(72, 56), (3, 3), padding: (1, 1), group: 2),
            "offsetMask", "4-D", "[72, 56]");

    [TestMethod]
    public void Dcnv4_InputNot4D_ThrowsNamingInput() =>
        Expect<ArgumentException>(() => Functional.Dcnv4(Tensor<double>.Zeros(2, 36, 6), OffsetMask, (3, 3), padding: (1, 1), group: 2),
            "input", "4-D");

    [TestMethod]
    public void Dcnv4_ValidArguments_Runs() =>
        CollectionAssert.AreEqual(new[] { 2, 6, 6, 6 }, Functional.Dcnv4(Input, OffsetMask, (3, 3), padding: (1, 1), group: 2).Shape);
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>DeformConv2d and Conv2d refuse bad arguments with the argument's name and the expected and
/// actual shapes, whichever backend holds the tensors.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class DeformConv2dArgumentTests
{
    private static readonly Tensor<double> Input = Tensor<double>.Zeros(2, 4, 6, 6);
    private static readonly Tensor<double> Weight = Tensor<double>.Zeros(3, 4, 3, 3);
    private static readonly Tensor<double> Offset = Tensor<double>.Zeros(2, 18, 4, 4);

    public static IEnumerable<object[]> Backends => TestBackends.All;

    public static IEnumerable<object[]> StrideRows => TestBackends.Cross(TestBackends.Names, new object[][] { [0, 1], [1, -2] });

    /// <summary>Runs <paramref name="call"/> with the tensors on <paramref name="backend"/>'s device and expects
    /// exactly <typeparamref name="TException"/> naming <paramref name="parameter"/> with every fragment.</summary>
    private static void Expect<TException>(string backend, Action<TestBackend> call, string parameter, params string[] fragments)
        where TException : ArgumentException
    {
        using var target = TestBackends.Open(backend);
        var ex = Assert.ThrowsExactly<TException>(() => call(target));
        Assert.AreEqual(parameter, ex.ParamName, ex.Message);
        foreach (var fragment in fragments) StringAssert.Contains(ex.Message, fragment);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_InputNot4D_ThrowsNamingInput(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Tensor<double>.Zeros(4, 6, 6)), b.On(Offset), b.On(Weight)),
            "input", "4-D", "[4, 6, 6]");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_WeightNot4D_ThrowsNamingWeight(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Tensor<double>.Zeros(3, 36))),
            "weight", "[3, 36]");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_ChannelsNotDivisibleByWeight_ThrowsNamingWeight(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Tensor<double>.Zeros(3, 3, 3, 3))),
            "weight", "4 channels", "[3, 3, 3, 3]");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_OutputChannelsNotDivisibleByGroups_ThrowsNamingWeight(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Tensor<double>.Zeros(3, 2, 3, 3))),
            "weight", "divisible by groups (2)");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_OffsetChannelsNotMultipleOfKernel_ThrowsNamingOffset(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Tensor<double>.Zeros(2, 17, 4, 4)), b.On(Weight)),
            "offset", "18", "[2, 17, 4, 4]");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_OffsetGroupsNotDividingChannels_ThrowsNamingOffset(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Tensor<double>.Zeros(2, 54, 4, 4)), b.On(Weight)),
            "offset", "3 offset groups", "4 input channels");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_OffsetSpatialSizeWrong_ThrowsWithExpectedShape(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Tensor<double>.Zeros(2, 18, 6, 6)), b.On(Weight)),
            "offset", "[2, 18, 4, 4]", "[2, 18, 6, 6]");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_OffsetBatchWrong_ThrowsWithExpectedShape(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Tensor<double>.Zeros(1, 18, 4, 4)), b.On(Weight)),
            "offset", "[2, 18, 4, 4]", "[1, 18, 4, 4]");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_MaskChannelsWrong_ThrowsNamingMask(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Weight),
            mask: b.On(Tensor<double>.Zeros(2, 18, 4, 4))), "mask", "[2, 9, 4, 4]", "[2, 18, 4, 4]");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_MaskSpatialWrong_ThrowsNamingMask(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Weight),
            mask: b.On(Tensor<double>.Zeros(2, 9, 5, 4))), "mask", "[2, 9, 4, 4]");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_BiasWrongLength_ThrowsNamingBias(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Weight), b.On(Tensor<double>.Zeros(4))),
            "bias", "[3]", "[4]");

    [TestMethod]
    [DynamicData(nameof(StrideRows))]
    public void DeformConv2d_NonPositiveStride_ThrowsNamingStride(string backend, int sh, int sw) =>
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Weight), stride: (sh, sw)),
            "stride", "positive");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_ZeroDilation_ThrowsNamingDilation(string backend) =>
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Weight), dilation: (1, 0)),
            "dilation", "positive");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_NegativePadding_ThrowsNamingPadding(string backend) =>
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.DeformConv2d(b.On(Input), b.On(Offset), b.On(Weight), padding: (-1, 0)),
            "padding", "non-negative");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void DeformConv2d_KernelLargerThanImage_ThrowsWithOutputSize(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.DeformConv2d(b.On(Tensor<double>.Zeros(1, 4, 2, 2)), b.On(Tensor<double>.Zeros(1, 18, 1, 1)),
            b.On(Weight)), "input", "0×0", "at least 1×1");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Conv2d_GroupsNotDividingChannels_ThrowsNamingWeight(string backend) =>
        Expect<ArgumentException>(backend, b => Functional.Conv2d(b.On(Input), b.On(Tensor<double>.Zeros(3, 2, 3, 3)), groups: 3),
            "weight", "groups (3)");

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Conv2d_ZeroGroups_ThrowsNamingGroups(string backend) =>
        Expect<ArgumentOutOfRangeException>(backend, b => Functional.Conv2d(b.On(Input), b.On(Weight), groups: 0), "groups");
}

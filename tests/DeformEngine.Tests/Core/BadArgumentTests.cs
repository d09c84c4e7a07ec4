using DeformEngine.Tests.Support;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

/// <summary>Bad arguments are refused before any memory is touched, with an exception that names
/// the argument and shows the offending shape or value; the tensor operations on every backend.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class BadArgumentTests
{
    public static IEnumerable<object[]> Backends => TestBackends.All;

    private static ArgumentOutOfRangeException ThrowsOutOfRange(string parameter, Action action)
    {
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(action);
        Assert.AreEqual(parameter, ex.ParamName, ex.Message);
        return ex;
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_InnerDimensionsDiffer_ThrowsNamingOther(string backend)
    {
        using var target = TestBackends.Open(backend);
        var ex = ThrowsArgument("other", () => target.On(Tensor<double>.Zeros(2, 3)).MatMul(target.On(Tensor<double>.Zeros(4, 5))));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_BatchDimensionsDiffer_ThrowsNamingOther(string backend)
    {
        using var target = TestBackends.Open(backend);
        var ex = ThrowsArgument("other", () => target.On(Tensor<float>.Zeros(2, 3, 4)).MatMul(target.On(Tensor<float>.Zeros(3, 4, 5))));
        Assert.Contains("batch dimensions [2]", ex.Message);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_VectorOperand_ThrowsNamingOther(string backend)
    {
        using var target = TestBackends.Open(backend);
        ThrowsArgument("other", () => target.On(Tensor<double>.Zeros(3)).MatMul(target.On(Tensor<double>.Zeros(3, 2))));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Binary_ShapesNotBroadcastable_ThrowsNamingOther(string backend)
    {
        using var target = TestBackends.Open(backend);
        var a = target.On(Tensor<double>.Zeros(2, 3));
        var b = target.On(Tensor<double>.Zeros(4));
        var ex = ThrowsArgument("other", () => a.Add(b));
        Assert.Contains("[2, 3] and [4]", ex.Message);
        ThrowsArgument("other", () => _ = a * target.On(Tensor<double>.Zeros(3, 3)));
        ThrowsArgument("other", () => target.On(Tensor<float>.Zeros(2, 1)).Div(target.On(Tensor<float>.Zeros(3, 2))));
    }

    [TestMethod]
    public void Creation_NegativeDimension_ThrowsNamingShape()
    {
        var ex = ThrowsArgument("shape", () => Tensor<double>.Zeros(2, -1));
        Assert.Contains("[2, -1]", ex.Message);
        ThrowsArgument("shape", () => Tensor<float>.Ones(-3));
        ThrowsArgument("shape", () => Tensor<double>.Full(1, 4, -4));
        ThrowsArgument("shape", () => Tensor<double>.Randn(1, -2, 2));
        ThrowsArgument("shape", () => Tensor<float>.Rand(1, 3, -1));
        ThrowsArgument("shape", () => Tensor<double>.FromArray([], -1, 0));
    }

    [TestMethod]
    public void Creation_MoreElementsThanAnArrayHolds_ThrowsNamingShape()
    {
        var ex = ThrowsArgument("shape", () => Tensor<double>.Zeros(100000, 100000));
        Assert.Contains("more elements than an array can hold", ex.Message);
    }

    [TestMethod]
    public void FromArray_DataLengthDiffersFromShape_ThrowsNamingData()
    {
        var ex = ThrowsArgument("data", () => Tensor<double>.FromArray([1, 2, 3], 2, 2));
        Assert.Contains("needs 4 elements, got 3", ex.Message);
        ThrowsArgument("data", () => Tensor<float>.FromArray([1f, 2f], 0, 2));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Reshape_WrongElementCount_ThrowsNamingShape(string backend)
    {
        using var target = TestBackends.Open(backend);
        var x = target.On(Tensor<double>.Zeros(2, 3));
        var ex = ThrowsArgument("shape", () => x.Reshape(4, 2));
        Assert.Contains("cannot reshape [2, 3] (6 elements) to [4, 2]", ex.Message);
        ThrowsArgument("shape", () => x.Reshape(4, -1));
        ThrowsArgument("shape", () => x.Reshape(0, 6));
        ThrowsArgument("shape", () => x.Reshape(0, -1));
        ThrowsArgument("shape", () => x.Reshape(-1, -1));
        ThrowsArgument("shape", () => x.Reshape(-2, -3));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void AxisOutOfRange_EveryAxisArgument_ThrowsNamingIt(string backend)
    {
        using var target = TestBackends.Open(backend);
        var x = target.On(Tensor<double>.Zeros(2, 3));
        var ex = ThrowsOutOfRange("axis", () => x.Sum(2));
        Assert.Contains("[-2, 1]", ex.Message);
        ThrowsOutOfRange("axis", () => x.Sum(-3, keepDim: true));
        ThrowsOutOfRange("axis", () => x.Mean(5));
        ThrowsOutOfRange("axis", () => x.Softmax(2));
        ThrowsOutOfRange("axis", () => x.LogSoftmax(-3));
        ThrowsOutOfRange("axis", () => x.Slice(2, 0, 1));
        ThrowsOutOfRange("axis", () => Tensor<double>.Cat([x, x], 2));
        ThrowsOutOfRange("axis", () => x.Dim(2));
        ThrowsOutOfRange("axis0", () => x.Transpose(2, 0));
        ThrowsOutOfRange("axis1", () => x.Transpose(0, -3));
        ThrowsOutOfRange("startAxis", () => x.Flatten(2));
        ThrowsOutOfRange("axis", () => target.On(Tensor<float>.Scalar(1)).Sum(0));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Slice_RangeOutsideAxis_ThrowsNamingStart(string backend)
    {
        using var target = TestBackends.Open(backend);
        var x = target.On(Tensor<double>.Zeros(2, 3));
        var ex = ThrowsOutOfRange("start", () => x.Slice(1, 2, 2));
        Assert.Contains("[2, 4)", ex.Message);
        ThrowsOutOfRange("start", () => x.Slice(1, -1, 1));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Permute_NotAPermutation_ThrowsNamingPerm(string backend)
    {
        using var target = TestBackends.Open(backend);
        var x = target.On(Tensor<double>.Zeros(2, 3, 4));
        ThrowsArgument("perm", () => x.Permute(0, 1));
        ThrowsArgument("perm", () => x.Permute(0, 1, 1));
        var ex = ThrowsArgument("perm", () => x.Permute(0, 1, 3));
        Assert.Contains("[0, 1, 3]", ex.Message);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Cat_ShapesDisagreeOffAxis_ThrowsNamingTensors(string backend)
    {
        using var target = TestBackends.Open(backend);
        var ex = ThrowsArgument("tensors", () => Tensor<double>.Cat([target.On(Tensor<double>.Zeros(2, 3)), target.On(Tensor<double>.Zeros(3, 3))], axis: 1));
        Assert.Contains("[3, 3]", ex.Message);
        ThrowsArgument("tensors", () => Tensor<double>.Cat([target.On(Tensor<double>.Zeros(2, 3)), target.On(Tensor<double>.Zeros(6))]));
        ThrowsArgument("tensors", () => Tensor<double>.Cat([]));
    }

    [TestMethod]
    public void Indexer_WrongIndexCount_ThrowsNamingIndex()
    {
        var x = Tensor<double>.Zeros(2, 3);
        ThrowsArgument("index", () => _ = x[1]);
        ThrowsOutOfRange("index", () => _ = x[2, 0]);
    }

    [TestMethod]
    public void EngineOptions_NonPositiveThreads_Throws()
    {
        ThrowsOutOfRange("value", () => EngineOptions.Threads = 0);
        ThrowsOutOfRange("value", () => EngineOptions.WorkspaceBytes = 1024);
    }
}

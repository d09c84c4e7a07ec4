using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

/// <summary>Bad arguments are refused before any memory is touched, with an exception that names
/// the argument and shows the offending shape or value.</summary>
[TestClass]
public class BadArgumentTests
{
    private static ArgumentOutOfRangeException ThrowsOutOfRange(string parameter, Action action)
    {
        var ex = Assert.ThrowsExactly<ArgumentOutOfRangeException>(action);
        Assert.AreEqual(parameter, ex.ParamName, ex.Message);
        return ex;
    }

    [TestMethod]
    public void MatMul_InnerDimensionsDiffer_ThrowsNamingOther()
    {
        var ex = ThrowsArgument("other", () => Tensor<double>.Zeros(2, 3).MatMul(Tensor<double>.Zeros(4, 5)));
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
    }

    [TestMethod]
    public void MatMul_BatchDimensionsDiffer_ThrowsNamingOther()
    {
        var ex = ThrowsArgument("other", () => Tensor<float>.Zeros(2, 3, 4).MatMul(Tensor<float>.Zeros(3, 4, 5)));
        Assert.Contains("batch dimensions [2]", ex.Message);
    }

    [TestMethod]
    public void MatMul_VectorOperand_ThrowsNamingOther()
    {
        ThrowsArgument("other", () => Tensor<double>.Zeros(3).MatMul(Tensor<double>.Zeros(3, 2)));
    }

    [TestMethod]
    public void Binary_ShapesNotBroadcastable_ThrowsNamingOther()
    {
        var a = Tensor<double>.Zeros(2, 3);
        var b = Tensor<double>.Zeros(4);
        var ex = ThrowsArgument("other", () => a.Add(b));
        Assert.Contains("[2, 3] and [4]", ex.Message);
        ThrowsArgument("other", () => _ = a * Tensor<double>.Zeros(3, 3));
        ThrowsArgument("other", () => Tensor<float>.Zeros(2, 1).Div(Tensor<float>.Zeros(3, 2)));
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
    public void Reshape_WrongElementCount_ThrowsNamingShape()
    {
        var x = Tensor<double>.Zeros(2, 3);
        var ex = ThrowsArgument("shape", () => x.Reshape(4, 2));
        Assert.Contains("cannot reshape [2, 3] (6 elements) to [4, 2]", ex.Message);
        ThrowsArgument("shape", () => x.Reshape(4, -1));
        ThrowsArgument("shape", () => x.Reshape(0, 6));
        ThrowsArgument("shape", () => x.Reshape(0, -1));
        ThrowsArgument("shape", () => x.Reshape(-1, -1));
        ThrowsArgument("shape", () => x.Reshape(-2, -3));
    }

    [TestMethod]
    public void AxisOutOfRange_EveryAxisArgument_ThrowsNamingIt()
    {
        var x = Tensor<double>.Zeros(2, 3);
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
        ThrowsOutOfRange("axis", () => Tensor<float>.Scalar(1).Sum(0));
    }

    [TestMethod]
    public void Slice_RangeOutsideAxis_ThrowsNamingStart()
    {
        var x = Tensor<double>.Zeros(2, 3);
        var ex = ThrowsOutOfRange("start", () => x.Slice(1, 2, 2));
        Assert.Contains("[2, 4)", ex.Message);
        ThrowsOutOfRange("start", () => x.Slice(1, -1, 1));
    }

    [TestMethod]
    public void Permute_NotAPermutation_ThrowsNamingPerm()
    {
        var x = Tensor<double>.Zeros(2, 3, 4);
        ThrowsArgument("perm", () => x.Permute(0, 1));
        ThrowsArgument("perm", () => x.Permute(0, 1, 1));
        var ex = ThrowsArgument("perm", () => x.Permute(0, 1, 3));
        Assert.Contains("[0, 1, 3]", ex.Message);
    }

    [TestMethod]
    public void Cat_ShapesDisagreeOffAxis_ThrowsNamingTensors()
    {
        var ex = ThrowsArgument("tensors", () => Tensor<double>.Cat([Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(3, 3)], axis: 1));
        Assert.Contains("[3, 3]", ex.Message);
        ThrowsArgument("tensors", () => Tensor<double>.Cat([Tensor<double>.Zeros(2, 3), Tensor<double>.Zeros(6)]));
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

using System.Numerics;
using DeformEngine.Tests.Support;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class ShapeOpsTests
{
    public static IEnumerable<object[]> Backends => TestBackends.All;

    // Shape operations only move values.
    private const double Exact = 0;

    private static readonly double[] Matrix = [1, 2, 3, 4, 5, 6];

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Reshape_InferredDimension_KeepsRowMajorOrder(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var r = target.On(Make<T>(Matrix, 2, 3)).Reshape(3, -1);
            ShapeIs([3, 2], r);
            Assert.AreEqual(T.CreateChecked(3), r.To(Device.Cpu)[1, 0]);
            Close(Matrix, r, Exact);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Flatten_FromAxisOne_CollapsesTrailingDims(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Tensor<double>.Zeros(2, 3, 4));
        ShapeIs([2, 12], x.Flatten());
        ShapeIs([24], x.Flatten(0));
        ShapeIs([2, 0], target.On(Tensor<double>.Zeros(2, 0, 4)).Flatten());
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Transpose_Matrix_SwapsRowsAndColumns(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var t = target.On(Make<T>(Matrix, 2, 3)).Transpose(0, 1);
            ShapeIs([3, 2], t);
            Close([1, 4, 2, 5, 3, 6], t, Exact);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Permute_Rank3_MovesLastAxisFirst(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // x[0,j,k] = 3j + k over [1,2,3]; permute(2,0,1) gives y[k,0,j] = x[0,j,k].
        var y = target.On(Make<double>([0, 1, 2, 3, 4, 5], 1, 2, 3)).Permute(2, 0, 1);
        ShapeIs([3, 1, 2], y);
        Close([0, 3, 1, 4, 2, 5], y, Exact);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Cat_AlongColumns_JoinsRows(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var a = target.On(Make<T>([1, 2, 3, 4], 2, 2));
            var b = target.On(Make<T>([5, 6], 2, 1));
            var c = Tensor<T>.Cat([a, b], axis: 1);
            ShapeIs([2, 3], c);
            Close([1, 2, 5, 3, 4, 6], c, Exact);
            Close([1, 2, 3, 4, 1, 2, 3, 4], Tensor<T>.Cat([a, a]), Exact);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Slice_MiddleColumns_MatchesHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var s = target.On(Make<T>(Matrix, 2, 3)).Slice(1, 1, 2);
            ShapeIs([2, 2], s);
            Close([2, 3, 5, 6], s, Exact);
            Close([4, 5, 6], target.On(Make<T>(Matrix, 2, 3)).Slice(0, 1, 1), Exact);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Slice_Backward_ScattersIntoZeros(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Make<double>(Matrix, 2, 3));
        x.RequiresGrad = true;
        x.Slice(1, 1, 2).Backward(target.On(Make<double>([10, 20, 30, 40], 2, 2)));
        Close([0, 10, 20, 0, 30, 40], x.Grad!, Exact);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void ShapeOps_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.Randn(71, 2, 3, 4);
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Reshape(4, -1)), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Flatten()), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Transpose(0, 2)), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Permute(1, 2, 0)), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Slice(2, 1, 2)), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Slice(-3, 1, 1)), [x]));
        var y = Tensor<double>.Randn(72, 2, 1, 4);
        Passes(GradCheck.Check(target.Run<double>(t => Tensor<double>.Cat([t[0], t[1]], axis: 1)), [x, y], names: ["x", "y"]));
        Passes(GradCheck.Check(target.Run<double>(t => Tensor<double>.Cat([t[1], t[0], t[1]], axis: -2)), [x, y], names: ["x", "y used twice"]));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Cat_InputWithoutGrad_GetsNoGradient(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var a = Tensor<double>.Ones(2);
        var b = Tensor<double>.Ones(3);
        b.RequiresGrad = true;
        Tensor<double>.Cat([target.On(a), target.On(b)]).Sum().Backward();
        Assert.IsNull(a.Grad);
        Close([1, 1, 1], b.Grad!, Exact);
    }
}

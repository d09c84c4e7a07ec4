using System.Numerics;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
public class ShapeOpsTests
{
    // Shape operations only move values.
    private const double Exact = 0;

    private static readonly double[] Matrix = [1, 2, 3, 4, 5, 6];

    [TestMethod]
    public void Reshape_InferredDimension_KeepsRowMajorOrder()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var r = Make<T>(Matrix, 2, 3).Reshape(3, -1);
            ShapeIs([3, 2], r);
            Assert.AreEqual(T.CreateChecked(3), r[1, 0]);
            Close(Matrix, r, Exact);
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Flatten_FromAxisOne_CollapsesTrailingDims()
    {
        var x = Tensor<double>.Zeros(2, 3, 4);
        ShapeIs([2, 12], x.Flatten());
        ShapeIs([24], x.Flatten(0));
        ShapeIs([2, 0], Tensor<double>.Zeros(2, 0, 4).Flatten());
    }

    [TestMethod]
    public void Transpose_Matrix_SwapsRowsAndColumns()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var t = Make<T>(Matrix, 2, 3).Transpose(0, 1);
            ShapeIs([3, 2], t);
            Close([1, 4, 2, 5, 3, 6], t, Exact);
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Permute_Rank3_MovesLastAxisFirst()
    {
        // x[0,j,k] = 3j + k over [1,2,3]; permute(2,0,1) gives y[k,0,j] = x[0,j,k].
        var y = Make<double>([0, 1, 2, 3, 4, 5], 1, 2, 3).Permute(2, 0, 1);
        ShapeIs([3, 1, 2], y);
        Close([0, 3, 1, 4, 2, 5], y, Exact);
    }

    [TestMethod]
    public void Cat_AlongColumns_JoinsRows()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var a = Make<T>([1, 2, 3, 4], 2, 2);
            var b = Make<T>([5, 6], 2, 1);
            var c = Tensor<T>.Cat([a, b], axis: 1);
            ShapeIs([2, 3], c);
            Close([1, 2, 5, 3, 4, 6], c, Exact);
            Close([1, 2, 3, 4, 1, 2, 3, 4], Tensor<T>.Cat([a, a]), Exact);
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Slice_MiddleColumns_MatchesHandValues()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var s = Make<T>(Matrix, 2, 3).Slice(1, 1, 2);
            ShapeIs([2, 2], s);
            Close([2, 3, 5, 6], s, Exact);
            Close([4, 5, 6], Make<T>(Matrix, 2, 3).Slice(0, 1, 1), Exact);
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Slice_Backward_ScattersIntoZeros()
    {
        var x = Make<double>(Matrix, 2, 3);
        x.RequiresGrad = true;
        x.Slice(1, 1, 2).Backward(Make<double>([10, 20, 30, 40], 2, 2));
        Close([0, 10, 20, 0, 30, 40], x.Grad!, Exact);
    }

    [TestMethod]
    public void ShapeOps_GradCheck_Passes()
    {
        var x = Tensor<double>.Randn(71, 2, 3, 4);
        Passes(GradCheck.Check(t => t[0].Reshape(4, -1), [x]));
        Passes(GradCheck.Check(t => t[0].Flatten(), [x]));
        Passes(GradCheck.Check(t => t[0].Transpose(0, 2), [x]));
        Passes(GradCheck.Check(t => t[0].Permute(1, 2, 0), [x]));
        Passes(GradCheck.Check(t => t[0].Slice(2, 1, 2), [x]));
        Passes(GradCheck.Check(t => t[0].Slice(-3, 1, 1), [x]));
        var y = Tensor<double>.Randn(72, 2, 1, 4);
        Passes(GradCheck.Check(t => Tensor<double>.Cat([t[0], t[1]], axis: 1), [x, y], names: ["x", "y"]));
        Passes(GradCheck.Check(t => Tensor<double>.Cat([t[1], t[0], t[1]], axis: -2), [x, y], names: ["x", "y used twice"]));
    }

    [TestMethod]
    public void Cat_InputWithoutGrad_GetsNoGradient()
    {
        var a = Tensor<double>.Ones(2);
        var b = Tensor<double>.Ones(3);
        b.RequiresGrad = true;
        Tensor<double>.Cat([a, b]).Sum().Backward();
        Assert.IsNull(a.Grad);
        Close([1, 1, 1], b.Grad!, Exact);
    }
}

using System.Numerics;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
public class ElementwiseTests
{
    // Hand values are small (|v| ≤ 40); float keeps ~7 significant digits and the vectorised
    // exp/log/tanh of TensorPrimitives are within a few ulp.
    private const double FloatTolerance = 1e-5;
    // Double: a few ulp of values ≤ 40.
    private const double DoubleTolerance = 1e-12;

    private static double Tolerance<T>() => typeof(T) == typeof(float) ? FloatTolerance : DoubleTolerance;

    [TestMethod]
    public void Add_ColumnPlusRow_BroadcastsToMatrix()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var column = Make<T>([1, 2], 2, 1);
            var row = Make<T>([10, 20, 30], 3);
            var sum = column + row;
            ShapeIs([2, 3], sum);
            Close([11, 21, 31, 12, 22, 32], sum, Tolerance<T>());
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Sub_RowMinusColumn_BroadcastsToMatrix()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var row = Make<T>([10, 20, 30], 3);
            var column = Make<T>([1, 2], 2, 1);
            Close([9, 19, 29, 8, 18, 28], row.Sub(column), Tolerance<T>());
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Mul_SameShape_MultipliesElementwise()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var a = Make<T>([1, -2, 3, 4], 2, 2);
            var b = Make<T>([5, 6, -7, 0.5], 2, 2);
            Close([5, -12, -21, 2], a * b, Tolerance<T>());
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Div_ColumnByRow_BroadcastsToMatrix()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var column = Make<T>([6, 12], 2, 1);
            var row = Make<T>([1, 2, 3], 1, 3);
            Close([6, 3, 2, 12, 6, 4], column / row, Tolerance<T>());
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Mul_ByRankZeroTensor_ScalesEveryElement()
    {
        var a = Make<double>([1, 2, 3], 3);
        var result = a.Mul(Tensor<double>.Scalar(2));
        ShapeIs([3], result);
        Close([2, 4, 6], result, DoubleTolerance);
    }

    [TestMethod]
    public void Add_MiddleAxisBroadcast_MatchesHandValues()
    {
        // a [2,1,2] + b [3,1] → [2,3,2]; out[i,j,k] = a[i,0,k] + b[j,0].
        var a = Make<double>([1, 2, 3, 4], 2, 1, 2);
        var b = Make<double>([10, 20, 30], 3, 1);
        var sum = a + b;
        ShapeIs([2, 3, 2], sum);
        Close([11, 12, 21, 22, 31, 32, 13, 14, 23, 24, 33, 34], sum, DoubleTolerance);
    }

    [TestMethod]
    public void ScalarOperators_BothSides_MatchHandValues()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = Make<T>([1, 2, 4], 3);
            T two = T.CreateChecked(2);
            double tol = Tolerance<T>();
            Close([3, 4, 6], x + two, tol, "x + 2");
            Close([3, 4, 6], two + x, tol, "2 + x");
            Close([-1, 0, 2], x - two, tol, "x - 2");
            Close([1, 0, -2], two - x, tol, "2 - x");
            Close([2, 4, 8], x * two, tol, "x * 2");
            Close([2, 4, 8], two * x, tol, "2 * x");
            Close([0.5, 1, 2], x / two, tol, "x / 2");
            Close([2, 1, 0.5], two / x, tol, "2 / x");
            Close([-1, -2, -4], -x, tol, "-x");
            Close([1, 0.5, 0.25], x.Reciprocal(), tol, "1/x");
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void UnaryFunctions_KnownPoints_MatchHandValues()
    {
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            double tol = Tolerance<T>();
            double ln2 = Math.Log(2), ln3 = Math.Log(3);
            Close([1, Math.E, 1 / Math.E], Make<T>([0, 1, -1], 3).Exp(), tol, "exp");
            Close([0, 1, 2], Make<T>([1, Math.E, Math.E * Math.E], 3).Log(), tol, "log");
            Close([0, 2, 1.5], Make<T>([0, 4, 2.25], 3).Sqrt(), tol, "sqrt");
            Close([9, 1, 0.25], Make<T>([3, 1, 0.5], 3).Pow(T.CreateChecked(2)), tol, "pow 2");
            Close([2, 3], Make<T>([4, 9], 2).Pow(T.CreateChecked(0.5)), tol, "pow ½");
            Close([0, 0, 0, 2], Make<T>([-3, -0.5, 0, 2], 4).Relu(), tol, "relu");
            // σ(ln 3) = 3/(3+1); σ(−ln 3) = 1/4.
            Close([0.5, 0.75, 0.25], Make<T>([0, ln3, -ln3], 3).Sigmoid(), tol, "sigmoid");
            // tanh(ln 2) = (2 − ½)/(2 + ½) = 0.6.
            Close([0, 0.6, -0.6], Make<T>([0, ln2, -ln2], 3).Tanh(), tol, "tanh");
            Close([3, 0, 2], Make<T>([-3, 0, 2], 3).Abs(), tol, "abs");
            Close([-1, 0, 2], Make<T>([1, 0, -2], 3).Neg(), tol, "neg");
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Mul_FloatBackward_MatchesHandGradient()
    {
        // d(Σ a·b)/da = b, /db = a.
        var a = Make<float>([1, 2, 3], 3);
        var b = Make<float>([4, 5, 6], 3);
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        a.Mul(b).Sum().Backward();
        Close([4, 5, 6], a.Grad!, FloatTolerance);
        Close([1, 2, 3], b.Grad!, FloatTolerance);
    }

    [TestMethod]
    public void Add_BroadcastBackward_SumsOverBroadcastAxes()
    {
        // out [2,3] = column [2,1] + row [3]; with gradOutput g the column gets row sums of g
        // and the row gets column sums.
        var column = Make<double>([1, 2], 2, 1);
        var row = Make<double>([10, 20, 30], 3);
        column.RequiresGrad = true;
        row.RequiresGrad = true;
        (column + row).Backward(Make<double>([1, 2, 3, 4, 5, 6], 2, 3));
        Close([6, 15], column.Grad!, DoubleTolerance);
        Close([5, 7, 9], row.Grad!, DoubleTolerance);
    }

    [TestMethod]
    public void BinaryOps_GradCheckWithBroadcasting_Passes()
    {
        var a = Tensor<double>.Randn(11, 2, 3, 4);
        var b = Tensor<double>.Randn(12, 3, 1);
        var c = Tensor<double>.Randn(13, 1, 1, 4);
        var positive = Positive(14, 0.5, 3, 1);
        Passes(GradCheck.Check(t => t[0] + t[1], [a, b], names: ["a", "b"]));
        Passes(GradCheck.Check(t => t[0] - t[1], [c, a], names: ["c", "a"]));
        Passes(GradCheck.Check(t => t[0] * t[1], [b, c], names: ["b", "c"]));
        Passes(GradCheck.Check(t => t[0] / t[1], [a, positive], names: ["a", "positive"]));
        Passes(GradCheck.Check(t => t[0].Mul(t[1]), [a, Tensor<double>.Randn(15, 1, 3, 1)], names: ["a", "b"]));
        Passes(GradCheck.Check(t => t[0].Add(t[1]), [Tensor<double>.Randn(16, 4), Tensor<double>.Scalar(0.3)], names: ["vector", "scalar"]));
    }

    [TestMethod]
    public void ScalarOps_GradCheck_Passes()
    {
        var x = Positive(21, 0.5, 2, 3);
        Passes(GradCheck.Check(t => 1.5 + t[0], [x]));
        Passes(GradCheck.Check(t => t[0] - 1.5, [x]));
        Passes(GradCheck.Check(t => 1.5 - t[0], [x]));
        Passes(GradCheck.Check(t => t[0] * -2.0, [x]));
        Passes(GradCheck.Check(t => t[0] / 4.0, [x]));
        Passes(GradCheck.Check(t => 3.0 / t[0], [x]));
        Passes(GradCheck.Check(t => t[0].Reciprocal(), [x]));
    }

    [TestMethod]
    public void UnaryOps_GradCheck_Passes()
    {
        var x = Tensor<double>.Randn(31, 3, 4);
        var positive = Positive(32, 0.5, 3, 4);
        var awayFromZero = AwayFromZero(33, 0.1, 3, 4);
        Passes(GradCheck.Check(t => t[0].Neg(), [x]));
        Passes(GradCheck.Check(t => t[0].Exp(), [x]));
        Passes(GradCheck.Check(t => t[0].Log(), [positive]));
        Passes(GradCheck.Check(t => t[0].Sqrt(), [positive]));
        Passes(GradCheck.Check(t => t[0].Pow(3), [x]));
        Passes(GradCheck.Check(t => t[0].Pow(2.5), [positive]));
        Passes(GradCheck.Check(t => t[0].Pow(-1.5), [positive]));
        Passes(GradCheck.Check(t => t[0].Relu(), [awayFromZero]));
        Passes(GradCheck.Check(t => t[0].Sigmoid(), [x]));
        Passes(GradCheck.Check(t => t[0].Tanh(), [x]));
        Passes(GradCheck.Check(t => t[0].Abs(), [awayFromZero]));
    }

    [TestMethod]
    public void Relu_AtZero_GradientIsZero()
    {
        var x = Make<double>([-1, 0, 1], 3);
        x.RequiresGrad = true;
        x.Relu().Sum().Backward();
        Close([0, 0, 1], x.Grad!, DoubleTolerance);
    }

    [TestMethod]
    public void Abs_AtZero_GradientIsZero()
    {
        var x = Make<double>([-2, 0, 3], 3);
        x.RequiresGrad = true;
        x.Abs().Sum().Backward();
        Close([-1, 0, 1], x.Grad!, DoubleTolerance);
    }

    [TestMethod]
    public void Mul_TensorUsedTwice_GradCheckPasses()
    {
        var x = Tensor<double>.Randn(41, 2, 3);
        Passes(GradCheck.Check(t => t[0] * t[0], [x]));
        Passes(GradCheck.Check(t => t[0].Tanh() * t[0].Exp() + t[0], [x]));
    }
}

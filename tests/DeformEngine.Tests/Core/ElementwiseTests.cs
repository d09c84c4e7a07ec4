using System.Numerics;
using DeformEngine.Tests.Support;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class ElementwiseTests
{
    public static IEnumerable<object[]> Backends => TestBackends.All;

    // Hand values are small (|v| ≤ 40); float keeps ~7 significant digits and the vectorised
    // exp/log/tanh of TensorPrimitives are within a few ulp.
    private const double FloatTolerance = 1e-5;
    // Double: a few ulp of values ≤ 40.
    private const double DoubleTolerance = 1e-12;

    private static double Tolerance<T>() => typeof(T) == typeof(float) ? FloatTolerance : DoubleTolerance;

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Add_ColumnPlusRow_BroadcastsToMatrix(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var column = target.On(Make<T>([1, 2], 2, 1));
            var row = target.On(Make<T>([10, 20, 30], 3));
            var sum = column + row;
            ShapeIs([2, 3], sum);
            Close([11, 21, 31, 12, 22, 32], sum, Tolerance<T>());
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Sub_RowMinusColumn_BroadcastsToMatrix(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var row = target.On(Make<T>([10, 20, 30], 3));
            var column = target.On(Make<T>([1, 2], 2, 1));
            Close([9, 19, 29, 8, 18, 28], row.Sub(column), Tolerance<T>());
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Mul_SameShape_MultipliesElementwise(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var a = target.On(Make<T>([1, -2, 3, 4], 2, 2));
            var b = target.On(Make<T>([5, 6, -7, 0.5], 2, 2));
            Close([5, -12, -21, 2], a * b, Tolerance<T>());
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Div_ColumnByRow_BroadcastsToMatrix(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var column = target.On(Make<T>([6, 12], 2, 1));
            var row = target.On(Make<T>([1, 2, 3], 1, 3));
            Close([6, 3, 2, 12, 6, 4], column / row, Tolerance<T>());
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Mul_ByRankZeroTensor_ScalesEveryElement(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var a = target.On(Make<double>([1, 2, 3], 3));
        var result = a.Mul(target.On(Tensor<double>.Scalar(2)));
        ShapeIs([3], result);
        Close([2, 4, 6], result, DoubleTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Add_MiddleAxisBroadcast_MatchesHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // a [2,1,2] + b [3,1] → [2,3,2]; out[i,j,k] = a[i,0,k] + b[j,0].
        var a = target.On(Make<double>([1, 2, 3, 4], 2, 1, 2));
        var b = target.On(Make<double>([10, 20, 30], 3, 1));
        var sum = a + b;
        ShapeIs([2, 3, 2], sum);
        Close([11, 12, 21, 22, 31, 32, 13, 14, 23, 24, 33, 34], sum, DoubleTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void ScalarOperators_BothSides_MatchHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var x = target.On(Make<T>([1, 2, 4], 3));
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
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void UnaryFunctions_KnownPoints_MatchHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            double tol = Tolerance<T>();
            double ln2 = Math.Log(2), ln3 = Math.Log(3);
            Close([1, Math.E, 1 / Math.E], target.On(Make<T>([0, 1, -1], 3)).Exp(), tol, "exp");
            Close([0, 1, 2], target.On(Make<T>([1, Math.E, Math.E * Math.E], 3)).Log(), tol, "log");
            Close([0, 2, 1.5], target.On(Make<T>([0, 4, 2.25], 3)).Sqrt(), tol, "sqrt");
            Close([9, 1, 0.25], target.On(Make<T>([3, 1, 0.5], 3)).Pow(T.CreateChecked(2)), tol, "pow 2");
            Close([2, 3], target.On(Make<T>([4, 9], 2)).Pow(T.CreateChecked(0.5)), tol, "pow ½");
            Close([0, 0, 0, 2], target.On(Make<T>([-3, -0.5, 0, 2], 4)).Relu(), tol, "relu");
            // σ(ln 3) = 3/(3+1); σ(−ln 3) = 1/4.
            Close([0.5, 0.75, 0.25], target.On(Make<T>([0, ln3, -ln3], 3)).Sigmoid(), tol, "sigmoid");
            // tanh(ln 2) = (2 − ½)/(2 + ½) = 0.6.
            Close([0, 0.6, -0.6], target.On(Make<T>([0, ln2, -ln2], 3)).Tanh(), tol, "tanh");
            Close([3, 0, 2], target.On(Make<T>([-3, 0, 2], 3)).Abs(), tol, "abs");
            Close([-1, 0, 2], target.On(Make<T>([1, 0, -2], 3)).Neg(), tol, "neg");
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Mul_FloatBackward_MatchesHandGradient(string backend)
    {
        using var target = TestBackends.Open<float>(backend);
        // d(Σ a·b)/da = b, /db = a.
        var a = target.On(Make<float>([1, 2, 3], 3));
        var b = target.On(Make<float>([4, 5, 6], 3));
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        a.Mul(b).Sum().Backward();
        Close([4, 5, 6], a.Grad!, FloatTolerance);
        Close([1, 2, 3], b.Grad!, FloatTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Add_BroadcastBackward_SumsOverBroadcastAxes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // out [2,3] = column [2,1] + row [3]; with gradOutput g the column gets row sums of g
        // and the row gets column sums.
        var column = target.On(Make<double>([1, 2], 2, 1));
        var row = target.On(Make<double>([10, 20, 30], 3));
        column.RequiresGrad = true;
        row.RequiresGrad = true;
        (column + row).Backward(target.On(Make<double>([1, 2, 3, 4, 5, 6], 2, 3)));
        Close([6, 15], column.Grad!, DoubleTolerance);
        Close([5, 7, 9], row.Grad!, DoubleTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void BinaryOps_GradCheckWithBroadcasting_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var a = Tensor<double>.Randn(11, 2, 3, 4);
        var b = Tensor<double>.Randn(12, 3, 1);
        var c = Tensor<double>.Randn(13, 1, 1, 4);
        var positive = Positive(14, 0.5, 3, 1);
        Passes(GradCheck.Check(target.Run<double>(t => t[0] + t[1]), [a, b], names: ["a", "b"]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0] - t[1]), [c, a], names: ["c", "a"]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0] * t[1]), [b, c], names: ["b", "c"]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0] / t[1]), [a, positive], names: ["a", "positive"]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Mul(t[1])), [a, Tensor<double>.Randn(15, 1, 3, 1)], names: ["a", "b"]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Add(t[1])), [Tensor<double>.Randn(16, 4), Tensor<double>.Scalar(0.3)], names: ["vector", "scalar"]));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void ScalarOps_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Positive(21, 0.5, 2, 3);
        Passes(GradCheck.Check(target.Run<double>(t => 1.5 + t[0]), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0] - 1.5), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => 1.5 - t[0]), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0] * -2.0), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0] / 4.0), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => 3.0 / t[0]), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Reciprocal()), [x]));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void UnaryOps_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.Randn(31, 3, 4);
        var positive = Positive(32, 0.5, 3, 4);
        var awayFromZero = AwayFromZero(33, 0.1, 3, 4);
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Neg()), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Exp()), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Log()), [positive]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Sqrt()), [positive]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Pow(3)), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Pow(2.5)), [positive]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Pow(-1.5)), [positive]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Relu()), [awayFromZero]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Sigmoid()), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Tanh()), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Abs()), [awayFromZero]));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Relu_AtZero_GradientIsZero(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Make<double>([-1, 0, 1], 3));
        x.RequiresGrad = true;
        x.Relu().Sum().Backward();
        Close([0, 0, 1], x.Grad!, DoubleTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Abs_AtZero_GradientIsZero(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Make<double>([-2, 0, 3], 3));
        x.RequiresGrad = true;
        x.Abs().Sum().Backward();
        Close([-1, 0, 1], x.Grad!, DoubleTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Mul_TensorUsedTwice_GradCheckPasses(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.Randn(41, 2, 3);
        Passes(GradCheck.Check(target.Run<double>(t => t[0] * t[0]), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Tanh() * t[0].Exp() + t[0]), [x]));
    }
}

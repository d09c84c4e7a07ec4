using System.Numerics;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
public class SoftmaxTests
{
    // Values of order 1 through one exp and one log: a few float ulp (1.2e-7).
    private const double FloatTolerance = 1e-6;
    private const double DoubleTolerance = 1e-14;

    // x + Shift is rounded to ulp(Shift), so the tolerance grows by the same factor.
    private const double Shift = 1000;

    private static double Tolerance<T>() => typeof(T) == typeof(float) ? FloatTolerance : DoubleTolerance;

    private static readonly double[] LogOneTwoThree = [0, Math.Log(2), Math.Log(3)];

    [TestMethod]
    public void Softmax_LogsOfOneTwoThree_GivesSixths()
    {
        // exp(ln k) = k, so softmax = k / (1 + 2 + 3).
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Close([1 / 6.0, 2 / 6.0, 3 / 6.0], Make<T>(LogOneTwoThree, 3).Softmax(), Tolerance<T>());
            Close([Math.Log(1 / 6.0), Math.Log(2 / 6.0), Math.Log(3 / 6.0)], Make<T>(LogOneTwoThree, 3).LogSoftmax(), Tolerance<T>());
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Softmax_LargeShift_StaysFinite()
    {
        // softmax(x + c) = softmax(x); exp(x + Shift) overflows unless the maximum is subtracted.
        static void Run<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var shifted = Make<T>(LogOneTwoThree.Select(v => v + Shift).ToArray(), 3);
            Close([1 / 6.0, 2 / 6.0, 3 / 6.0], shifted.Softmax(), Tolerance<T>() * Shift);
            Close([Math.Log(1 / 6.0), Math.Log(2 / 6.0), Math.Log(3 / 6.0)], shifted.LogSoftmax(), Tolerance<T>() * Shift);
        }
        Run<float>();
        Run<double>();
    }

    [TestMethod]
    public void Softmax_AxisZero_NormalisesColumns()
    {
        // Column 0 holds ln 1, ln 3 → 1/4, 3/4; column 1 holds equal values → ½, ½.
        var x = Make<double>([0, 5, Math.Log(3), 5], 2, 2);
        Close([0.25, 0.5, 0.75, 0.5], x.Softmax(0), DoubleTolerance);
    }

    [TestMethod]
    public void Softmax_SumOfOutputs_HasZeroGradient()
    {
        // Σ softmax(x) = 1 whatever x, so its gradient vanishes.
        var x = Tensor<double>.Randn(81, 2, 5);
        x.RequiresGrad = true;
        x.Softmax().Sum().Backward();
        Close(new double[10], x.Grad!, DoubleTolerance);
    }

    [TestMethod]
    public void Softmax_GradCheckOnEveryAxis_Passes()
    {
        var x = Tensor<double>.Randn(82, 2, 3, 4);
        for (int axis = -3; axis < 3; axis++)
        {
            int a = axis;
            Passes(GradCheck.Check(t => t[0].Softmax(a), [x], names: [$"softmax {a}"]));
            Passes(GradCheck.Check(t => t[0].LogSoftmax(a), [x], names: [$"logsoftmax {a}"]));
        }
    }

    [TestMethod]
    public void Softmax_TensorUsedTwice_GradCheckPasses()
    {
        var x = Tensor<double>.Randn(83, 3, 4);
        Passes(GradCheck.Check(t => t[0].Softmax(1).Mul(t[0]), [x]));
        Passes(GradCheck.Check(t => t[0].LogSoftmax(0).Mul(t[0].Softmax(0)), [x]));
    }
}

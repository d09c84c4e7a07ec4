using System.Numerics;
using DeformEngine.Tests.Support;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class SoftmaxTests
{
    public static IEnumerable<object[]> Backends => TestBackends.All;

    // Values of order 1 through one exp and one log: a few float ulp (1.2e-7).
    private const double FloatTolerance = 1e-6;
    private const double DoubleTolerance = 1e-14;

    // x + Shift is rounded to ulp(Shift), so the tolerance grows by the same factor.
    private const double Shift = 1000;

    private static double Tolerance<T>() => typeof(T) == typeof(float) ? FloatTolerance : DoubleTolerance;

    private static readonly double[] LogOneTwoThree = [0, Math.Log(2), Math.Log(3)];

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Softmax_LogsOfOneTwoThree_GivesSixths(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // exp(ln k) = k, so softmax = k / (1 + 2 + 3).
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            Close([1 / 6.0, 2 / 6.0, 3 / 6.0], target.On(Make<T>(LogOneTwoThree, 3)).Softmax(), Tolerance<T>());
            Close([Math.Log(1 / 6.0), Math.Log(2 / 6.0), Math.Log(3 / 6.0)], target.On(Make<T>(LogOneTwoThree, 3)).LogSoftmax(), Tolerance<T>());
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Softmax_LargeShift_StaysFinite(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // softmax(x + c) = softmax(x); exp(x + Shift) overflows unless the maximum is subtracted.
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var shifted = target.On(Make<T>(LogOneTwoThree.Select(v => v + Shift).ToArray(), 3));
            Close([1 / 6.0, 2 / 6.0, 3 / 6.0], shifted.Softmax(), Tolerance<T>() * Shift);
            Close([Math.Log(1 / 6.0), Math.Log(2 / 6.0), Math.Log(3 / 6.0)], shifted.LogSoftmax(), Tolerance<T>() * Shift);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Softmax_AxisZero_NormalisesColumns(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // Column 0 holds ln 1, ln 3 → 1/4, 3/4; column 1 holds equal values → ½, ½.
        var x = target.On(Make<double>([0, 5, Math.Log(3), 5], 2, 2));
        Close([0.25, 0.5, 0.75, 0.5], x.Softmax(0), DoubleTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Softmax_SumOfOutputs_HasZeroGradient(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // Σ softmax(x) = 1 whatever x, so its gradient vanishes.
        var x = Tensor<double>.Randn(81, 2, 5);
        x.RequiresGrad = true;
        target.On(x).Softmax().Sum().Backward();
        Close(new double[10], x.Grad!, DoubleTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Softmax_GradCheckOnEveryAxis_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.Randn(82, 2, 3, 4);
        for (int axis = -3; axis < 3; axis++)
        {
            int a = axis;
            Passes(GradCheck.Check(target.Run<double>(t => t[0].Softmax(a)), [x], names: [$"softmax {a}"]));
            Passes(GradCheck.Check(target.Run<double>(t => t[0].LogSoftmax(a)), [x], names: [$"logsoftmax {a}"]));
        }
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Softmax_TensorUsedTwice_GradCheckPasses(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.Randn(83, 3, 4);
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Softmax(1).Mul(t[0])), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].LogSoftmax(0).Mul(t[0].Softmax(0))), [x]));
    }
}

using System.Numerics;
using DeformEngine.Tests.Support;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class ReductionTests
{
    public static IEnumerable<object[]> Backends => TestBackends.All;

    // Sums of small integers are exact in both precisions; means divide by 2 or 3, a few ulp.
    private const double Tolerance = 1e-6;

    private static readonly double[] Matrix = [1, 2, 3, 4, 5, 6];

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Sum_All_ReturnsRankZeroTotal(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var sum = target.On(Make<T>(Matrix, 2, 3)).Sum();
            Assert.AreEqual(0, sum.Rank);
            Close([21], sum, Tolerance);
            Close([3.5], target.On(Make<T>(Matrix, 2, 3)).Mean(), Tolerance);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Sum_AlongEachAxis_MatchesHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var m = target.On(Make<T>(Matrix, 2, 3));
            var columns = m.Sum(0);
            ShapeIs([3], columns);
            Close([5, 7, 9], columns, Tolerance);
            var rows = m.Sum(1, keepDim: true);
            ShapeIs([2, 1], rows);
            Close([6, 15], rows, Tolerance);
            Close([6, 15], m.Sum(-1), Tolerance);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Mean_AlongEachAxis_MatchesHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var m = target.On(Make<T>(Matrix, 2, 3));
            Close([2.5, 3.5, 4.5], m.Mean(0), Tolerance);
            var rows = m.Mean(1, keepDim: true);
            ShapeIs([2, 1], rows);
            Close([2, 5], rows, Tolerance);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Sum_MiddleAxisOfRank3_MatchesHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // x[i,j,k] = 4i + 2j + k over shape [2,3,2]; summing j gives 3·(4i + k) + 2·(0+1+2).
        var x = target.On(Make<double>([0, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9], 2, 3, 2));
        var sum = x.Sum(1);
        ShapeIs([2, 2], sum);
        Close([6, 9, 18, 21], sum, Tolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Mean_Backward_SpreadsOneOverCount(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = target.On(Make<double>(Matrix, 2, 3));
        x.RequiresGrad = true;
        x.Mean(1).Backward(target.On(Make<double>([3, 6], 2)));
        Close([1, 1, 1, 2, 2, 2], x.Grad!, Tolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Reductions_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.Randn(51, 2, 3, 4);
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Sum()), [x]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Mean()), [x]));
        for (int axis = -3; axis < 3; axis++)
        {
            int a = axis;
            Passes(GradCheck.Check(target.Run<double>(t => t[0].Sum(a)), [x], names: [$"sum axis {a}"]));
            Passes(GradCheck.Check(target.Run<double>(t => t[0].Sum(a, keepDim: true)), [x], names: [$"sum keep {a}"]));
            Passes(GradCheck.Check(target.Run<double>(t => t[0].Mean(a, keepDim: a % 2 == 0)), [x], names: [$"mean axis {a}"]));
        }
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void Sum_TensorUsedTwice_GradCheckPasses(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var x = Tensor<double>.Randn(52, 3, 4);
        Passes(GradCheck.Check(target.Run<double>(t => t[0].Mul(t[0].Sum(1, keepDim: true))), [x]));
    }
}

using System.Numerics;
using DeformEngine.Tests.Support;
using static DeformEngine.Tests.Core.TensorAssert;

namespace DeformEngine.Tests.Core;

[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class MatMulTests
{
    public static IEnumerable<object[]> Backends => TestBackends.All;

    // Products of small integers are exact in both precisions.
    private const double IntegerTolerance = 1e-9;
    // Random products of length ≤ 9 against a loop in the same precision: the GEMM may add in a
    // different order, a few ulp of Σ|a·b| (float ulp 1.2e-7, double 2.2e-16).
    private const double FloatRtol = 1e-5, DoubleRtol = 1e-13;

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_TwoByTwo_MatchesHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var a = target.On(Make<T>([1, 2, 3, 4], 2, 2));
            var b = target.On(Make<T>([5, 6, 7, 8], 2, 2));
            Close([19, 22, 43, 50], a.MatMul(b), IntegerTolerance);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_NonSquare_MatchesHandValues(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // [2,3]·[3,1]
        var a = target.On(Make<double>([1, 2, 3, 4, 5, 6], 2, 3));
        var b = target.On(Make<double>([1, 0, -1], 3, 1));
        var c = a.MatMul(b);
        ShapeIs([2, 1], c);
        Close([-2, -2], c, IntegerTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_Batched_MultipliesEachPair(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var a = target.On(Make<T>([1, 2, 3, 4], 2, 1, 2));
            var b = target.On(Make<T>([5, 6, 7, 8], 2, 2, 1));
            var c = a.MatMul(b);
            ShapeIs([2, 1, 1], c);
            Close([17, 53], c, IntegerTolerance);
        }
        Run<float>(target);
        Run<double>(target);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_SharedRightMatrix_AppliesToEveryBatch(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var a = target.On(Make<double>([1, 2, 3, 4], 2, 1, 2));
        var b = target.On(Make<double>([5, 6], 2, 1));
        var c = a.MatMul(b);
        ShapeIs([2, 1, 1], c);
        Close([17, 39], c, IntegerTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_Backward_MatchesHandGradients(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        // C = A·B, seed G = 1: dA = G·Bᵀ (row sums of B), dB = Aᵀ·G (column sums of A, per row of B).
        var a = target.On(Make<double>([1, 2, 3, 4], 2, 2));
        var b = target.On(Make<double>([5, 6, 7, 8], 2, 2));
        a.RequiresGrad = true;
        b.RequiresGrad = true;
        a.MatMul(b).Sum().Backward();
        Close([11, 15, 11, 15], a.Grad!, IntegerTolerance);
        Close([4, 4, 6, 6], b.Grad!, IntegerTolerance);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_OddSizes_MatchesTripleLoop(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        static void Run<T>(TestBackend target, double rtol) where T : unmanaged, IFloatingPointIeee754<T>
        {
            int seed = 0;
            foreach (int m in new[] { 1, 2, 5 })
            foreach (int k in new[] { 1, 3, 9 })
            foreach (int n in new[] { 1, 4, 7 })
            {
                var a = Tensor<T>.Randn(++seed, 2, m, k);
                var b = Tensor<T>.Randn(++seed, 2, k, n);
                var c = target.On(a).MatMul(target.On(b)).ToArray();
                T[] x = a.ToArray(), y = b.ToArray();
                for (int batch = 0; batch < 2; batch++)
                for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T sum = T.Zero, magnitude = T.Zero;
                    for (int p = 0; p < k; p++)
                    {
                        T term = x[(batch * m + i) * k + p] * y[(batch * k + p) * n + j];
                        sum += term;
                        magnitude += T.Abs(term);
                    }
                    double got = double.CreateChecked(c[(batch * m + i) * n + j]);
                    Assert.IsTrue(Math.Abs(got - double.CreateChecked(sum)) <= rtol * double.CreateChecked(magnitude),
                        $"[{typeof(T).Name}] m={m} k={k} n={n} batch {batch} ({i},{j}): loop {sum}, MatMul {got}.");
                }
            }
        }
        Run<float>(target, FloatRtol);
        Run<double>(target, DoubleRtol);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_GradCheck_Passes(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Passes(GradCheck.Check(target.Run<double>(t => t[0].MatMul(t[1])),
            [Tensor<double>.Randn(61, 3, 4), Tensor<double>.Randn(62, 4, 2)], names: ["a", "b"]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].MatMul(t[1])),
            [Tensor<double>.Randn(63, 2, 3, 4), Tensor<double>.Randn(64, 2, 4, 5)], names: ["batched a", "batched b"]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].MatMul(t[1])),
            [Tensor<double>.Randn(65, 2, 2, 3, 4), Tensor<double>.Randn(66, 4, 2)], names: ["batched a", "shared b"]));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_TensorUsedTwice_GradCheckPasses(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        Passes(GradCheck.Check(target.Run<double>(t => t[0].MatMul(t[0])), [Tensor<double>.Randn(67, 3, 3)]));
        Passes(GradCheck.Check(target.Run<double>(t => t[0].MatMul(t[0].Transpose(0, 1))), [Tensor<double>.Randn(68, 2, 3)]));
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MatMul_OnlyOneInputNeedsGrad_OtherGetsNone(string backend)
    {
        using var target = TestBackends.Open<double>(backend);
        var a = Tensor<double>.Randn(69, 2, 3);
        var b = Tensor<double>.Randn(70, 3, 2);
        b.RequiresGrad = true;
        target.On(a).MatMul(target.On(b)).Sum().Backward();
        Assert.IsNull(a.Grad);
        Assert.IsNotNull(b.Grad);
    }
}

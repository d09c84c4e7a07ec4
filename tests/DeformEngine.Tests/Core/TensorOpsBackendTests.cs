using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Core;

/// <summary>Core's tensor operations (elementwise, broadcasting, reductions, MatMul, Permute, Cat, Slice,
/// Softmax, LogSoftmax, Pow) on every backend against the CPU reference: value and every gradient.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class TensorOpsBackendTests
{
    // One or two roundings per element; a device's exp/log/tanh may differ from .NET's by a few ulps.
    private static readonly Tolerance Elementwise = Tolerance.Everywhere(1e-5, 1e-12);

    // Sums of up to a few dozen products in float, in another order (GEMM tiles, blocked GEMM) than the
    // reference; exp, log and pow of a device may differ from .NET's by a few ulps.
    private static readonly Tolerance Sums = Tolerance.Everywhere(1e-4, 1e-10);

    private static readonly int[] AllPositive = [0, 1, 2];

    /// <summary>An operation on inputs of the given shapes; the inputs listed in Positive are drawn from
    /// [0.5, 1.5) (Log, Sqrt, Div, Pow), the others from a normal distribution.</summary>
    public sealed record Case(string Name, int[][] Shapes, Func<Tensor<double>[], Tensor<double>> Double,
        Func<Tensor<float>[], Tensor<float>> Float, Tolerance Tolerance, int[] Positive)
    {
        public override string ToString() => Name;
    }

    private static Case Make(string name, int[][] shapes, Func<Tensor<double>[], Tensor<double>> d, Func<Tensor<float>[], Tensor<float>> f,
        int[]? positive = null) => new(name, shapes, d, f, Sums, positive ?? []);

    private static Case Unary(string name, Func<Tensor<double>, Tensor<double>> d, Func<Tensor<float>, Tensor<float>> f, bool positive = false) =>
        new(name, [[3, 37]], x => d(x[0]), x => f(x[0]), Elementwise, positive ? [0] : []);

    private static Tensor<T> Chain<T>(Tensor<T> p, Tensor<T> q) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mixed = p.Exp().Mul(q) + p.Sigmoid() - p.Tanh() / q + p.Relu() * p.Abs();
        var logs = q.Log().Add(q.Sqrt()).Mul(q.Reciprocal()).Sub(p.Neg());
        return (mixed + logs * T.CreateChecked(0.5) - T.CreateChecked(2)).Mul(mixed);
    }

    public static readonly Case[] Cases =
    [
        Unary("neg", t => t.Neg(), t => t.Neg()),
        Unary("exp", t => t.Exp(), t => t.Exp()),
        Unary("log", t => t.Log(), t => t.Log(), positive: true),
        Unary("sqrt", t => t.Sqrt(), t => t.Sqrt(), positive: true),
        Unary("relu", t => t.Relu(), t => t.Relu()),
        Unary("sigmoid", t => t.Sigmoid(), t => t.Sigmoid()),
        Unary("tanh", t => t.Tanh(), t => t.Tanh()),
        Unary("abs", t => t.Abs(), t => t.Abs()),
        Unary("reciprocal", t => t.Reciprocal(), t => t.Reciprocal(), positive: true),
        Unary("add_scalar", t => t.AddScalar(1.5), t => t.AddScalar(1.5f)),
        Unary("mul_scalar", t => t.MulScalar(-0.25), t => t.MulScalar(-0.25f)),
        Unary("mean", t => t.Mean(), t => t.Mean()),
        new("elementwise_chain", [[5, 9], [5, 9]], x => Chain(x[0], x[1]), x => Chain(x[0], x[1]), Elementwise, [1]),
        Make("add_row_broadcast", [[3, 4], [4]], x => x[0].Add(x[1]), x => x[0].Add(x[1])),
        Make("sub_column_broadcast", [[2, 3, 5], [3, 1]], x => x[0].Sub(x[1]), x => x[0].Sub(x[1])),
        Make("mul_both_broadcast", [[4, 1, 3], [1, 5, 1]], x => x[0].Mul(x[1]), x => x[0].Mul(x[1])),
        Make("div_scalar_tensor_rank4", [[2, 3, 4, 5], [1, 3, 1, 1]], x => x[0].Div(x[1]), x => x[0].Div(x[1]), positive: AllPositive),
        Make("div_left_broadcast", [[5], [3, 2, 5]], x => x[0].Div(x[1]), x => x[0].Div(x[1]), positive: AllPositive),
        Make("mul_zero_d", [[], [2, 3]], x => x[0].Mul(x[1]), x => x[0].Mul(x[1])),
        Make("sum_axis0", [[4, 3, 5]], x => x[0].Sum(0), x => x[0].Sum(0)),
        Make("sum_axis1_keepdim", [[4, 3, 5]], x => x[0].Sum(1, keepDim: true), x => x[0].Sum(1, keepDim: true)),
        Make("mean_last_axis", [[2, 3, 7]], x => x[0].Mean(-1), x => x[0].Mean(-1)),
        Make("mean_axis2_keepdim_rank4", [[2, 3, 4, 5]], x => x[0].Mean(2, keepDim: true), x => x[0].Mean(2, keepDim: true)),
        Make("matmul_2d", [[5, 7], [7, 3]], x => x[0].MatMul(x[1]), x => x[0].MatMul(x[1])),
        Make("matmul_batched", [[3, 4, 6], [3, 6, 5]], x => x[0].MatMul(x[1]), x => x[0].MatMul(x[1])),
        Make("matmul_shared_right_rank4", [[2, 3, 17, 19], [19, 18]], x => x[0].MatMul(x[1]), x => x[0].MatMul(x[1])),
        Make("transpose_2d", [[5, 7]], x => x[0].Transpose(0, 1), x => x[0].Transpose(0, 1)),
        Make("permute_rank4", [[2, 3, 4, 5]], x => x[0].Permute(2, 0, 3, 1), x => x[0].Permute(2, 0, 3, 1)),
        Make("cat_axis0", [[2, 3], [4, 3], [1, 3]], x => Tensor<double>.Cat(x, 0), x => Tensor<float>.Cat(x, 0)),
        Make("cat_axis1_rank3", [[2, 3, 4], [2, 1, 4], [2, 5, 4]], x => Tensor<double>.Cat(x, 1), x => Tensor<float>.Cat(x, 1)),
        Make("cat_last_axis", [[3, 2], [3, 5]], x => Tensor<double>.Cat(x, -1), x => Tensor<float>.Cat(x, -1)),
        Make("slice_middle_axis", [[3, 7, 4]], x => x[0].Slice(1, 2, 4), x => x[0].Slice(1, 2, 4)),
        Make("slice_first_axis", [[6, 5]], x => x[0].Slice(0, 1, 3), x => x[0].Slice(0, 1, 3)),
        Make("softmax_last_axis", [[4, 9]], x => x[0].Softmax(), x => x[0].Softmax()),
        Make("softmax_axis1_rank3", [[3, 5, 4]], x => x[0].Softmax(1), x => x[0].Softmax(1)),
        Make("logsoftmax_last_axis", [[6, 10]], x => x[0].LogSoftmax(), x => x[0].LogSoftmax()),
        Make("logsoftmax_axis0", [[5, 3, 2]], x => x[0].LogSoftmax(0), x => x[0].LogSoftmax(0)),
        Make("pow_square", [[4, 5]], x => x[0].Pow(2.0), x => x[0].Pow(2f)),
        Make("pow_cube", [[3, 7]], x => x[0].Pow(3.0), x => x[0].Pow(3f)),
        Make("pow_fractional", [[3, 7]], x => x[0].Pow(1.5), x => x[0].Pow(1.5f), positive: AllPositive),
        Make("linear_like_chain", [[8, 6], [5, 6], [5]],
            x => x[0].MatMul(x[1].Transpose(0, 1)).Add(x[2]).LogSoftmax(),
            x => x[0].MatMul(x[1].Transpose(0, 1)).Add(x[2]).LogSoftmax()),
    ];

    public static IEnumerable<object[]> Runs => TestBackends.Cross(TestBackends.Candidates, Cases.Select(c => c.Name));

    public static IEnumerable<object[]> Backends => TestBackends.All;

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void TensorOp_Float_MatchesReferenceValueAndEveryGradient(string backend, string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        BackendRuns.MatchesReference(backend, c.Float, Inputs<float>(c), c.Tolerance, c.Name, seed: 703);
    }

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void TensorOp_Double_MatchesReferenceValueAndEveryGradient(string backend, string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        BackendRuns.MatchesReference(backend, c.Double, Inputs<double>(c), c.Tolerance, c.Name, seed: 703);
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void SumItemAndBackward_ScalarLoss_ReadsBackAndAccumulates(string backend)
    {
        using var target = TestBackends.Open<float>(backend);
        double tolerance = target.Tolerance<float>(Elementwise);
        var x = target.On(Tensor<float>.Randn(73, 1000));
        x.RequiresGrad = true;
        var loss = x.Mul(x).Sum();
        Assert.AreSame(target.Device, loss.Device);
        float expected = Tensor<float>.Randn(73, 1000).ToArray().Sum(v => v * v);
        Assert.AreEqual(expected, loss.Item(), 1e-5 * Math.Abs(expected), "Item() reads the scalar back");
        loss.Backward();
        Assert.AreSame(target.Device, x.Grad!.Device, "a leaf's gradient lives where the leaf does");
        Support.TensorAssert.Close(Tensor<float>.Randn(73, 1000).MulScalar(2f), x.Grad!.To(Device.Cpu), tolerance, "d Σx²/dx");
        // A second backward accumulates into the same gradient.
        x.Mul(x).Sum().Backward();
        Support.TensorAssert.Close(Tensor<float>.Randn(73, 1000).MulScalar(4f), x.Grad!.To(Device.Cpu), tolerance, "accumulated");
    }

    private static Tensor<T>[] Inputs<T>(Case c) where T : unmanaged, IFloatingPointIeee754<T> =>
        c.Shapes.Select((shape, i) => c.Positive.Contains(i)
            ? Tensor<T>.Rand(710 + i, shape).AddScalar(T.CreateChecked(0.5))
            : Tensor<T>.Randn(710 + i, shape)).ToArray();
}

namespace DeformEngine.Tests.Gpu;

/// <summary>Broadcasting binary ops, sums and means along axes, MatMul, Permute, Cat, Slice,
/// Softmax, LogSoftmax and Pow on each GPU backend against the CPU: value and every gradient.</summary>
[TestClass]
public class GpuTensorShapeOpsTests
{
    // Sums of up to a few dozen products in float, in another order (GEMM tiles) than on the CPU;
    // exp, log and pow of the device may differ from .NET's by a few ulps.
    private const double FloatTolerance = 1e-4;
    private const double DoubleTolerance = 1e-10;

    /// <summary>An operation on inputs of the given shapes; Positive keeps the inputs in [0.5, 1.5) (Div, Pow).</summary>
    public sealed record Case(string Name, int[][] Shapes, Func<Tensor<double>[], Tensor<double>> Double,
        Func<Tensor<float>[], Tensor<float>> Float, bool Positive = false)
    {
        public override string ToString() => Name;
    }

    private static Case Make(string name, int[][] shapes, Func<Tensor<double>[], Tensor<double>> d, Func<Tensor<float>[], Tensor<float>> f,
        bool positive = false) => new(name, shapes, d, f, positive);

    public static readonly Case[] Cases =
    [
        Make("add_row_broadcast", [[3, 4], [4]], x => x[0].Add(x[1]), x => x[0].Add(x[1])),
        Make("sub_column_broadcast", [[2, 3, 5], [3, 1]], x => x[0].Sub(x[1]), x => x[0].Sub(x[1])),
        Make("mul_both_broadcast", [[4, 1, 3], [1, 5, 1]], x => x[0].Mul(x[1]), x => x[0].Mul(x[1])),
        Make("div_scalar_tensor_rank4", [[2, 3, 4, 5], [1, 3, 1, 1]], x => x[0].Div(x[1]), x => x[0].Div(x[1]), positive: true),
        Make("div_left_broadcast", [[5], [3, 2, 5]], x => x[0].Div(x[1]), x => x[0].Div(x[1]), positive: true),
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
        Make("pow_fractional", [[3, 7]], x => x[0].Pow(1.5), x => x[0].Pow(1.5f), positive: true),
        Make("linear_like_chain", [[8, 6], [5, 6], [5]],
            x => x[0].MatMul(x[1].Transpose(0, 1)).Add(x[2]).LogSoftmax(),
            x => x[0].MatMul(x[1].Transpose(0, 1)).Add(x[2]).LogSoftmax()),
    ];

    public static IEnumerable<object[]> Runs =>
        from backend in GpuTestDevices.Backends from precision in new[] { "float", "double" } from c in Cases
        select new object[] { backend, precision, c.Name };

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void TensorOp_MatchesCpuValueAndEveryGradient(string backend, string precision, string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        if (precision == "float") Check(GpuTestDevices.Shared<float>(backend), c.Float, Inputs<float>(c), FloatTolerance, c.Name);
        else Check(GpuTestDevices.Shared<double>(backend), c.Double, Inputs<double>(c), DoubleTolerance, c.Name);
    }

    [TestMethod]
    [DataRow("CpuAccelerator")]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void MixedDevices_BroadcastCatMatMul_ThrowArgumentNamingTheOperand(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var x = Tensor<float>.Randn(701, 3, 4).To(device);
        var cpu = Tensor<float>.Randn(702, 4);
        Assert.AreEqual("other", Assert.ThrowsExactly<ArgumentException>(() => x.Add(cpu)).ParamName);
        Assert.AreEqual("other", Assert.ThrowsExactly<ArgumentException>(() => x.MatMul(cpu.Reshape(4, 1))).ParamName);
        Assert.AreEqual("tensors", Assert.ThrowsExactly<ArgumentException>(() => Tensor<float>.Cat([x, cpu.Reshape(1, 4)])).ParamName);
    }

    private static void Check<T>(Device device, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs, double tolerance, string what)
        where T : unmanaged, IFloatingPointIeee754<T> => GpuOpRunner.MatchesCpu(device, function, inputs, tolerance, what, seed: 703);

    private static Tensor<T>[] Inputs<T>(Case c) where T : unmanaged, IFloatingPointIeee754<T> =>
        c.Shapes.Select((shape, i) => c.Positive
            ? Tensor<T>.Rand(710 + i, shape).AddScalar(T.CreateChecked(0.5))
            : Tensor<T>.Randn(710 + i, shape)).ToArray();
}

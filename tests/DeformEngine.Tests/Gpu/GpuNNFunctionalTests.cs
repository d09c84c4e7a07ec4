namespace DeformEngine.Tests.Gpu;

/// <summary>The NN functional operators on each GPU backend against the CPU: value and every gradient,
/// and the running statistics that BatchNorm2d updates on the device.</summary>
[TestClass]
public class GpuNNFunctionalTests
{
    // Window means, batch statistics and GEMM sums in float in another order (trees, tiles) than on the CPU.
    private const double FloatTolerance = 1e-4;
    private const double DoubleTolerance = 1e-10;

    private static readonly int[] Labels = [2, 0, 4, 1, 3, 3, 0];

    /// <summary>An operator on inputs of the given shapes, written once for both precisions.</summary>
    public sealed record Case(string Name, int[][] Shapes, Func<Tensor<double>[], Tensor<double>> Double,
        Func<Tensor<float>[], Tensor<float>> Float)
    {
        public override string ToString() => Name;
    }

    private static Case Make(string name, int[][] shapes, Func<Tensor<double>[], Tensor<double>> d, Func<Tensor<float>[], Tensor<float>> f) =>
        new(name, shapes, d, f);

    public static readonly Case[] Cases =
    [
        Make("linear_bias_rank3", [[2, 5, 7], [4, 7], [4]], x => Functional.Linear(x[0], x[1], x[2]), x => Functional.Linear(x[0], x[1], x[2])),
        Make("linear_no_bias", [[9, 20], [17, 20]], x => Functional.Linear(x[0], x[1]), x => Functional.Linear(x[0], x[1])),
        Make("maxpool_2x2", [[2, 3, 8, 7]], x => Functional.MaxPool2d(x[0], (2, 2)), x => Functional.MaxPool2d(x[0], (2, 2))),
        Make("maxpool_3x3_stride2_pad1_overlapping", [[2, 2, 9, 8]],
            x => Functional.MaxPool2d(x[0], (3, 3), (2, 2), (1, 1)), x => Functional.MaxPool2d(x[0], (3, 3), (2, 2), (1, 1))),
        Make("maxpool_3x2_stride1", [[1, 3, 6, 7]],
            x => Functional.MaxPool2d(x[0], (3, 2), (1, 1)), x => Functional.MaxPool2d(x[0], (3, 2), (1, 1))),
        Make("avgpool_3x3_stride2_pad1", [[2, 3, 9, 8]],
            x => Functional.AvgPool2d(x[0], (3, 3), (2, 2), (1, 1)), x => Functional.AvgPool2d(x[0], (3, 3), (2, 2), (1, 1))),
        Make("avgpool_exclude_pad", [[1, 2, 7, 6]],
            x => Functional.AvgPool2d(x[0], (2, 3), (1, 2), (1, 1), countIncludePad: false),
            x => Functional.AvgPool2d(x[0], (2, 3), (1, 2), (1, 1), countIncludePad: false)),
        Make("maxpool_kernel_2^30_clipped", [[2, 2, 3, 4]],
            x => Functional.MaxPool2d(x[0], (1 << 30, 1 << 30), (1, 1), (1 << 29, 1 << 29)),
            x => Functional.MaxPool2d(x[0], (1 << 30, 1 << 30), (1, 1), (1 << 29, 1 << 29))),
        Make("avgpool_kernel_2^30_exclude_pad", [[2, 2, 3, 4]],
            x => Functional.AvgPool2d(x[0], (1 << 30, 3), (1, 1), (1 << 29, 1), countIncludePad: false),
            x => Functional.AvgPool2d(x[0], (1 << 30, 3), (1, 1), (1 << 29, 1), countIncludePad: false)),
        Make("adaptive_avgpool_global", [[3, 4, 7, 5]],
            x => Functional.AdaptiveAvgPool2d(x[0], (1, 1)), x => Functional.AdaptiveAvgPool2d(x[0], (1, 1))),
        Make("adaptive_avgpool_overlapping_bins", [[2, 2, 7, 9]],
            x => Functional.AdaptiveAvgPool2d(x[0], (3, 4)), x => Functional.AdaptiveAvgPool2d(x[0], (3, 4))),
        Make("batchnorm_training_affine", [[3, 4, 5, 6], [4], [4]],
            x => Functional.BatchNorm2d(x[0], null, null, x[1], x[2], training: true),
            x => Functional.BatchNorm2d(x[0], null, null, x[1], x[2], training: true)),
        Make("batchnorm_training_plain", [[5, 3, 4, 4]],
            x => Functional.BatchNorm2d(x[0], null, null, training: true), x => Functional.BatchNorm2d(x[0], null, null, training: true)),
        Make("batchnorm_evaluation", [[2, 3, 5, 4], [3], [3]],
            x => Functional.BatchNorm2d(x[0], RunningMean<double>(x[0].Device), RunningVar<double>(x[0].Device), x[1], x[2]),
            x => Functional.BatchNorm2d(x[0], RunningMean<float>(x[0].Device), RunningVar<float>(x[0].Device), x[1], x[2])),
        Make("cross_entropy_mean", [[7, 5]], x => Functional.CrossEntropy(x[0], Labels), x => Functional.CrossEntropy(x[0], Labels)),
        Make("cross_entropy_sum", [[7, 5]],
            x => Functional.CrossEntropy(x[0], Labels, Reduction.Sum), x => Functional.CrossEntropy(x[0], Labels, Reduction.Sum)),
        Make("cross_entropy_none", [[7, 5]],
            x => Functional.CrossEntropy(x[0], Labels, Reduction.None), x => Functional.CrossEntropy(x[0], Labels, Reduction.None)),
        Make("mse_mean", [[3, 4, 5], [3, 4, 5]], x => Functional.MseLoss(x[0], x[1]), x => Functional.MseLoss(x[0], x[1])),
        Make("mse_none", [[6, 5], [6, 5]],
            x => Functional.MseLoss(x[0], x[1], Reduction.None), x => Functional.MseLoss(x[0], x[1], Reduction.None)),
        Make("dropout_training", [[4, 50]],
            x => Functional.Dropout(x[0], 0.3, training: true, new SeededRandom(801)),
            x => Functional.Dropout(x[0], 0.3, training: true, new SeededRandom(801))),
    ];

    public static IEnumerable<object[]> Runs =>
        from backend in new[] { "OpenCL", "CUDA" } from precision in new[] { "float", "double" } from c in Cases
        select new object[] { backend, precision, c.Name };

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void NNFunctional_MatchesCpuValueAndEveryGradient(string backend, string precision, string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        if (precision == "float") Check(GpuTestDevices.Shared<float>(backend), c.Float, Inputs<float>(c), FloatTolerance, c.Name);
        else Check(GpuTestDevices.Shared<double>(backend), c.Double, Inputs<double>(c), DoubleTolerance, c.Name);
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void BatchNorm2d_TrainingOnDevice_UpdatesRunningStatisticsLikeCpu(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var input = Tensor<float>.Randn(802, 4, 3, 5, 6).MulScalar(2f).AddScalar(0.5f);
        var (cpuMean, cpuVar) = (RunningMean<float>(Device.Cpu), RunningVar<float>(Device.Cpu));
        var (gpuMean, gpuVar) = (RunningMean<float>(device), RunningVar<float>(device));
        for (int step = 0; step < 2; step++)
        {
            Functional.BatchNorm2d(input, cpuMean, cpuVar, training: true, momentum: 0.3);
            Functional.BatchNorm2d(input.To(device), gpuMean, gpuVar, training: true, momentum: 0.3);
        }
        Support.TensorAssert.Close(cpuMean, gpuMean.To(Device.Cpu), FloatTolerance, "running mean");
        Support.TensorAssert.Close(cpuVar, gpuVar.To(Device.Cpu), FloatTolerance, "running variance");
    }

    private static Tensor<T> RunningMean<T>(Device device) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.Randn(803, 3).MulScalar(T.CreateChecked(0.3)).To(device);

    private static Tensor<T> RunningVar<T>(Device device) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.Rand(804, 3).AddScalar(T.CreateChecked(0.5)).To(device);

    private static void Check<T>(Device device, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs, double tolerance, string what)
        where T : unmanaged, IFloatingPointIeee754<T> => GpuOpRunner.MatchesCpu(device, function, inputs, tolerance, what, seed: 805);

    private static Tensor<T>[] Inputs<T>(Case c) where T : unmanaged, IFloatingPointIeee754<T> =>
        c.Shapes.Select((shape, i) => Tensor<T>.Randn(810 + i, shape)).ToArray();
}

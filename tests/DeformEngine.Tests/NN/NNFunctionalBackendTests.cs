using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.NN;

/// <summary>The NN functional operators on every backend against the CPU reference: value and every
/// gradient, and the running statistics that BatchNorm2d updates where its tensors live.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class NNFunctionalBackendTests
{
    // Window means, batch statistics and GEMM sums in float in another order (trees, tiles, blocked
    // GEMM) than the reference loops; the same in double.
    private static readonly Tolerance VsReference = Tolerance.Everywhere(1e-4, 1e-10);

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

    public static IEnumerable<object[]> Runs => TestBackends.Cross(TestBackends.Candidates, Cases.Select(c => c.Name));

    public static IEnumerable<object[]> Candidates => TestBackends.CandidateRows;

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void NNFunctional_Float_MatchesReferenceValueAndEveryGradient(string backend, string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        BackendRuns.MatchesReference(backend, c.Float, Inputs<float>(c), VsReference, c.Name, seed: 805);
    }

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void NNFunctional_Double_MatchesReferenceValueAndEveryGradient(string backend, string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        BackendRuns.MatchesReference(backend, c.Double, Inputs<double>(c), VsReference, c.Name, seed: 805);
    }

    [TestMethod]
    [DynamicData(nameof(Candidates))]
    public void BatchNorm2d_Training_UpdatesRunningStatisticsLikeReference(string backend)
    {
        var input = Tensor<float>.Randn(802, 4, 3, 5, 6).MulScalar(2f).AddScalar(0.5f);
        (Tensor<float> Mean, Tensor<float> Var) Train(string name)
        {
            using var target = TestBackends.Open<float>(name);
            var (mean, variance) = (RunningMean<float>(target.Device), RunningVar<float>(target.Device));
            for (int step = 0; step < 2; step++)
                Functional.BatchNorm2d(target.On(input), mean, variance, training: true, momentum: 0.3);
            return (mean.To(Device.Cpu), variance.To(Device.Cpu));
        }
        var expected = Train(TestBackends.CpuReference);
        var actual = Train(backend);
        double tolerance = VsReference.DeviceFloat;
        TensorAssert.Close(expected.Mean, actual.Mean, tolerance, "running mean");
        TensorAssert.Close(expected.Var, actual.Var, tolerance, "running variance");
    }

    private static Tensor<T> RunningMean<T>(Device device) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.Randn(803, 3).MulScalar(T.CreateChecked(0.3)).To(device);

    private static Tensor<T> RunningVar<T>(Device device) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor<T>.Rand(804, 3).AddScalar(T.CreateChecked(0.5)).To(device);

    private static Tensor<T>[] Inputs<T>(Case c) where T : unmanaged, IFloatingPointIeee754<T> =>
        c.Shapes.Select((shape, i) => Tensor<T>.Randn(810 + i, shape)).ToArray();
}

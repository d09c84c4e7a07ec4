using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>SGD steps of a small classifier shaped like examples/DeformedFashion (conv, BatchNorm, ReLU,
/// max pool, a DCNv2 layer with its offset/mask convolution, BatchNorm, ReLU, global average pool,
/// linear, cross-entropy) with every tensor on the device, against the same steps on the CPU.</summary>
[TestClass]
public class GpuCnnTrainingTests
{
    // Three steps compound the float rounding differences of every forward and backward pass.
    private const double FloatTolerance = 1e-4;

    private static readonly int[] Labels = [0, 2, 1, 2, 0, 1];

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void SmallCnnWithDcnSgd_ThreeSteps_MatchesCpu(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var cpu = Train(Device.Cpu);
        var gpu = Train(device);
        string[] names =
        [
            "conv1 weight", "bn1 weight", "bn1 bias", "offset conv weight", "offset conv bias", "dcn weight",
            "bn2 weight", "bn2 bias", "fc weight", "fc bias", "bn1 running mean", "bn1 running var",
            "bn2 running mean", "bn2 running var", "first loss", "last loss",
        ];
        BackendRuns.AssertClose(cpu, gpu, names, FloatTolerance, $"{backend} CNN training");
        Assert.IsTrue(cpu[^1].Item() < cpu[^2].Item(), "the loss goes down, so the steps did something");
    }

    /// <summary>Parameters and running statistics after three steps, then the first and last loss, on the CPU.</summary>
    private static Tensor<float>[] Train(Device device)
    {
        const float learningRate = 0.1f;
        var input = Tensor<float>.Randn(901, 6, 2, 8, 8).To(device);
        Tensor<float>[] parameters =
        [
            Tensor<float>.Randn(902, 6, 2, 3, 3).MulScalar(0.3f),
            Tensor<float>.Ones(6), Tensor<float>.Zeros(6),
            Tensor<float>.Randn(903, 27, 6, 3, 3).MulScalar(0.05f), Tensor<float>.Randn(904, 27).MulScalar(0.1f),
            Tensor<float>.Randn(905, 8, 6, 3, 3).MulScalar(0.2f),
            Tensor<float>.Ones(8), Tensor<float>.Zeros(8),
            Tensor<float>.Randn(906, 3, 8).MulScalar(0.3f), Tensor<float>.Zeros(3),
        ];
        parameters = parameters.Select(p => Leaf(p.To(device))).ToArray();
        Tensor<float>[] running =
            [Tensor<float>.Zeros(6).To(device), Tensor<float>.Ones(6).To(device), Tensor<float>.Zeros(8).To(device), Tensor<float>.Ones(8).To(device)];
        var losses = new List<Tensor<float>>();
        for (int step = 0; step < 3; step++)
        {
            var p = parameters;
            var x = Functional.BatchNorm2d(Functional.Conv2d(input, p[0], padding: (1, 1)), running[0], running[1], p[1], p[2], training: true);
            x = Functional.MaxPool2d(x.Relu(), (2, 2));
            var offsetAndMask = Functional.Conv2d(x, p[3], p[4], padding: (1, 1));
            var offset = offsetAndMask.Slice(1, 0, 18);
            var mask = offsetAndMask.Slice(1, 18, 9).Sigmoid();
            x = Functional.DeformConv2d(x, offset, p[5], padding: (1, 1), mask: mask);
            x = Functional.BatchNorm2d(x, running[2], running[3], p[6], p[7], training: true).Relu();
            var logits = Functional.Linear(Functional.AdaptiveAvgPool2d(x, (1, 1)).Flatten(1), p[8], p[9]);
            var loss = Functional.CrossEntropy(logits, Labels);
            loss.Backward();
            losses.Add(loss.Detach());
            using (Autograd.NoGrad())
                parameters = parameters.Select(q => Leaf(q - q.Grad! * learningRate)).ToArray();
        }
        return [.. parameters.Select(q => q.To(Device.Cpu)), .. running.Select(r => r.To(Device.Cpu)),
            losses[0].To(Device.Cpu), losses[^1].To(Device.Cpu)];
    }

    private static Tensor<float> Leaf(Tensor<float> tensor)
    {
        var leaf = tensor.Detach();
        leaf.RequiresGrad = true;
        return leaf;
    }
}

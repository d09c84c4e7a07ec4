using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>A few SGD steps of a DCNv2 layer with every parameter on the device, against the same steps on the CPU.</summary>
[TestClass]
public class GpuTrainingTests
{
    // Three steps compound the float rounding differences of the forward and backward passes.
    private const double FloatTolerance = 1e-4;

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void DeformConv2dSgd_ThreeSteps_MatchesCpu(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var cpu = Train(Device.Cpu);
        var gpu = Train(device);
        string[] names = ["weight", "bias", "offset", "mask logits", "first loss", "last loss"];
        BackendRuns.AssertClose(cpu, gpu, names, FloatTolerance, $"{backend} training");
        Assert.IsTrue(cpu[5].Item() < cpu[4].Item(), "the loss goes down, so the steps did something");
    }

    /// <summary>Parameters after three steps, then the first and last loss, all on the CPU.</summary>
    private static Tensor<float>[] Train(Device device)
    {
        const float learningRate = 0.01f;
        var input = Tensor<float>.Randn(81, 3, 4, 7, 6).To(device);
        var target = Tensor<float>.Randn(82, 3, 5, 7, 6).To(device);
        Tensor<float>[] parameters =
        [
            Tensor<float>.Randn(83, 5, 4, 3, 3).MulScalar(0.2f),
            Tensor<float>.Randn(84, 5),
            Tensor<float>.Randn(85, 3, 18, 7, 6).MulScalar(0.5f),
            Tensor<float>.Randn(86, 3, 9, 7, 6),
        ];
        parameters = parameters.Select(p => Leaf(p.To(device))).ToArray();
        var losses = new List<Tensor<float>>();
        for (int step = 0; step < 3; step++)
        {
            var (weight, bias, offset, maskLogits) = (parameters[0], parameters[1], parameters[2], parameters[3]);
            var output = Functional.DeformConv2d(input, offset, weight, bias, padding: (1, 1), mask: maskLogits.Sigmoid());
            var error = output - target;
            var loss = error.Mul(error).Mean();
            loss.Backward();
            losses.Add(loss.Detach());
            using (Autograd.NoGrad())
                parameters = parameters.Select(p => Leaf(p - p.Grad! * learningRate)).ToArray();
        }
        return [.. parameters.Select(p => p.To(Device.Cpu)), losses[0].To(Device.Cpu), losses[^1].To(Device.Cpu)];
    }

    private static Tensor<float> Leaf(Tensor<float> tensor)
    {
        var leaf = tensor.Detach();
        leaf.RequiresGrad = true;
        return leaf;
    }
}

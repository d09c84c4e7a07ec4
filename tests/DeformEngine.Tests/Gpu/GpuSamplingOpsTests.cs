using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>GridSample and MultiScaleDeformableAttention have no GPU kernels yet: on a GPU tensor (the CPU
/// accelerator's included) they are refused with a NotSupportedException that names the operator and the
/// device (after the arguments are checked), never run on the wrong device.</summary>
[TestClass]
public class GpuSamplingOpsTests
{
    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void SamplingOps_OnDevice_ThrowNotSupportedNamingOpAndDevice(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        var input = Tensor<float>.Randn(1, 2, 3, 4, 5).To(device);
        var grid = Tensor<float>.Zeros(2, 3, 3, 2).To(device);
        var value = Tensor<float>.Randn(2, 2, 13, 2, 4).To(device);
        var locations = Tensor<float>.Zeros(2, 5, 2, 2, 3, 2).To(device);
        var weights = Tensor<float>.Zeros(2, 5, 2, 2, 3).To(device);
        (string Op, Action Call)[] cases =
        [
            ("GridSample", () => Functional.GridSample(input, grid)),
            ("MultiScaleDeformableAttention", () => Functional.MultiScaleDeformableAttention(value, [(3, 3), (2, 2)], [0, 9], locations, weights)),
        ];
        foreach (var (op, call) in cases)
        {
            var error = Assert.ThrowsExactly<NotSupportedException>(call, op);
            StringAssert.Contains(error.Message, op);
            StringAssert.Contains(error.Message, device.Name);
        }
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void SamplingOps_MixedDevices_ThrowArgumentNamingTheMovedTensor(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        var input = Tensor<float>.Randn(1, 2, 3, 4, 5);
        var grid = Tensor<float>.Zeros(2, 3, 3, 2).To(device);
        var error = Assert.ThrowsExactly<ArgumentException>(() => Functional.GridSample(input, grid));
        Assert.AreEqual("grid", error.ParamName);
    }
}

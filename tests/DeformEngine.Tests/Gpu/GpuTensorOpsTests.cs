using DeformEngine.Tests.Core;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>What only a device's tensors do: moving to and from the CPU, device buffers, and refusing
/// operands from another device. The tensor operations themselves are compared with the CPU reference in
/// <see cref="TensorOpsBackendTests"/>.</summary>
[TestClass]
public class GpuTensorOpsTests
{
    public static IEnumerable<object[]> Backends => TestBackends.GpuRows;

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void ToAndBack_FloatAndDouble_RoundTripExactlyAndGradientReturnsToCpu(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        var single = Tensor<float>.Randn(74, 2, 3, 5);
        var twice = Tensor<double>.Randn(75, 7);
        var onDevice = single.To(device);
        Assert.AreSame(device, onDevice.Device);
        Assert.IsNotNull(onDevice.Buffer);
        CollectionAssert.AreEqual(single.ToArray(), onDevice.To(Device.Cpu).ToArray());
        CollectionAssert.AreEqual(twice.ToArray(), twice.To(device).ToArray());
        Assert.AreSame(onDevice, onDevice.To(device), "moving to where it is returns it");
        var clone = onDevice.Clone();
        Assert.AreSame(device, clone.Device, "a clone stays on the device");
        Assert.AreNotSame(onDevice.Buffer, clone.Buffer);
        CollectionAssert.AreEqual(single.ToArray(), clone.ToArray());
        CollectionAssert.AreEqual(new[] { 6, 5 }, onDevice.Reshape(6, 5).Shape, "reshape shares the device buffer");

        var leaf = Tensor<float>.Randn(76, 4);
        leaf.RequiresGrad = true;
        leaf.To(device).MulScalar(3f).Sum().Backward();
        Assert.IsTrue(leaf.Grad!.Device.IsCpu, "the gradient of a CPU leaf comes back to the CPU");
        Support.TensorAssert.AllEqual(leaf.Grad, 3f, "d Σ3x/dx");
    }

    [TestMethod]
    [DynamicData(nameof(Backends))]
    public void MixedDevices_BroadcastCatMatMul_ThrowArgumentNamingTheOperand(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var x = Tensor<float>.Randn(701, 3, 4).To(device);
        var cpu = Tensor<float>.Randn(702, 4);
        Assert.AreEqual("other", Assert.ThrowsExactly<ArgumentException>(() => x.Add(cpu)).ParamName);
        Assert.AreEqual("other", Assert.ThrowsExactly<ArgumentException>(() => x.MatMul(cpu.Reshape(4, 1))).ParamName);
        Assert.AreEqual("tensors", Assert.ThrowsExactly<ArgumentException>(() => Tensor<float>.Cat([x, cpu.Reshape(1, 4)])).ParamName);
    }
}

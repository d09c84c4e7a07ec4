namespace DeformEngine.Tests.Gpu;

/// <summary>The Core tensor operations that run on a device (what a training step needs), against the CPU.</summary>
[TestClass]
public class GpuTensorOpsTests
{
    // One or two roundings per element; the device's exp/log/tanh may differ from .NET's by a few ulps.
    private const double FloatTolerance = 1e-5;
    private const double DoubleTolerance = 1e-12;

    public static IEnumerable<object[]> Runs =>
        from backend in GpuTestDevices.Backends from precision in new[] { "float", "double" }
        select new object[] { backend, precision };

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void ElementwiseChain_MatchesCpuValueAndGradients(string backend, string precision)
    {
        if (precision == "float") CheckChain<float>(backend, FloatTolerance);
        else CheckChain<double>(backend, DoubleTolerance);
    }

    [TestMethod]
    [DataRow("CpuAccelerator")]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void EachUnaryOp_MatchesCpu(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var x = Tensor<float>.Randn(71, 3, 37).Mul(Tensor<float>.Full(2f, 3, 37));
        var positive = x.Abs().AddScalar(0.1f);
        (string Name, Func<Tensor<float>, Tensor<float>> Op, Tensor<float> Input)[] ops =
        [
            ("Neg", t => t.Neg(), x), ("Exp", t => t.Exp(), x), ("Log", t => t.Log(), positive),
            ("Sqrt", t => t.Sqrt(), positive), ("Relu", t => t.Relu(), x), ("Sigmoid", t => t.Sigmoid(), x),
            ("Tanh", t => t.Tanh(), x), ("Abs", t => t.Abs(), x), ("Reciprocal", t => t.Reciprocal(), positive),
            ("AddScalar", t => t.AddScalar(1.5f), x), ("MulScalar", t => t.MulScalar(-0.25f), x),
            ("Mean", t => t.Mean(), x),
        ];
        foreach (var (name, op, input) in ops)
        {
            var run = GpuOpRunner.ForwardBackward(device, ts => op(ts[0]), [input], seed: 72);
            var cpu = GpuOpRunner.ForwardBackward(Device.Cpu, ts => op(ts[0]), [input], seed: 72);
            GpuOpRunner.AssertClose(cpu, run, ["value", "gradient"], FloatTolerance, $"{backend} {name}");
        }
    }

    [TestMethod]
    [DataRow("CpuAccelerator")]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void SumItemAndBackward_ScalarLossOnDevice_Work(string backend)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var x = Tensor<float>.Randn(73, 1000).To(device);
        x.RequiresGrad = true;
        var loss = x.Mul(x).Sum();
        Assert.AreSame(device, loss.Device);
        float expected = Tensor<float>.Randn(73, 1000).ToArray().Sum(v => v * v);
        Assert.AreEqual(expected, loss.Item(), 1e-5 * Math.Abs(expected), "Item() reads a device scalar back");
        loss.Backward();
        Support.TensorAssert.Close(Tensor<float>.Randn(73, 1000).MulScalar(2f), x.Grad!.To(Device.Cpu), FloatTolerance, "d Σx²/dx");
        // A second backward accumulates into the same device gradient.
        x.Mul(x).Sum().Backward();
        Support.TensorAssert.Close(Tensor<float>.Randn(73, 1000).MulScalar(4f), x.Grad!.To(Device.Cpu), FloatTolerance, "accumulated");
    }

    [TestMethod]
    [DataRow("CpuAccelerator")]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
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

    private static void CheckChain<T>(string backend, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = GpuTestDevices.Shared<T>(backend);
        var a = Tensor<T>.Randn(77, 5, 9);
        var b = Tensor<T>.Rand(78, 5, 9).AddScalar(T.CreateChecked(0.5));
        Func<Tensor<T>[], Tensor<T>> chain = x =>
        {
            var (p, q) = (x[0], x[1]);
            var mixed = p.Exp().Mul(q) + p.Sigmoid() - p.Tanh() / q + p.Relu() * p.Abs();
            var logs = q.Log().Add(q.Sqrt()).Mul(q.Reciprocal()).Sub(p.Neg());
            return (mixed + logs * T.CreateChecked(0.5) - T.CreateChecked(2)).Mul(mixed);
        };
        var cpu = GpuOpRunner.ForwardBackward(Device.Cpu, chain, [a, b], seed: 79);
        var run = GpuOpRunner.ForwardBackward(device, chain, [a, b], seed: 79);
        GpuOpRunner.AssertClose(cpu, run, ["value", "grad a", "grad b"], tolerance, $"{backend} {typeof(T).Name} chain");
    }
}

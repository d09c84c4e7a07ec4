using DeformEngine.Gpu;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>
/// The devices of the GPU backends for the GPU-specific tests, by runtime name ("OpenCL", "CUDA"), or an
/// inconclusive result with the reason. The devices come from <see cref="TestBackends"/>, which the
/// operator tests share: one device per backend for the whole run; tests that change device state
/// (deterministic mode, disposal) open their own.
/// </summary>
internal static class GpuTestDevices
{
    /// <summary>The process-wide device of <paramref name="backend"/>; "CPU" gives <see cref="Device.Cpu"/>.</summary>
    public static Device Shared(string backend) => backend == "CPU" ? Device.Cpu : TestBackends.SharedDevice(backend);

    /// <summary>Like <see cref="Shared(string)"/>, and inconclusive when <typeparamref name="T"/> is double
    /// and the device cannot compute in it.</summary>
    public static Device Shared<T>(string backend)
    {
        var device = Shared(backend);
        RequirePrecision<T>(device);
        return device;
    }

    /// <summary>A device of its own for the caller to dispose.</summary>
    public static GpuDevice OpenNew(string backend) => TestBackends.OpenNewDevice(backend);

    public static void RequirePrecision<T>(Device device) => TestBackends.RequirePrecision<T>(device);
}

/// <summary>Runs a function forward and backward on one device and brings the results to the CPU.</summary>
internal static class GpuOpRunner
{
    /// <summary>
    /// Copies <paramref name="inputs"/> to <paramref name="device"/> as leaves that require a gradient,
    /// evaluates <paramref name="function"/>, back-propagates Σ output ⊙ R for a seeded random R, and
    /// returns [output, ∂/∂input0, ∂/∂input1, …] on the CPU.
    /// </summary>
    public static Tensor<T>[] ForwardBackward<T>(Device device, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs, long seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var leaves = inputs.Select(x =>
        {
            var leaf = x.Detach().To(device);
            leaf.RequiresGrad = true;
            return leaf;
        }).ToArray();
        var output = function(leaves);
        Assert.AreSame(device, output.Device, "the op runs where its inputs are");
        var upstream = Tensor<T>.Randn(seed, output.Shape).To(device);
        output.Mul(upstream).Sum().Backward();
        var results = new List<Tensor<T>> { output.To(Device.Cpu) };
        foreach (var leaf in leaves)
        {
            Assert.IsNotNull(leaf.Grad, "every input gets a gradient");
            Assert.AreSame(device, leaf.Grad.Device, "gradients stay on the device");
            results.Add(leaf.Grad.To(Device.Cpu));
        }
        return [.. results];
    }

    /// <summary>Runs <paramref name="function"/> on the CPU and on <paramref name="device"/> with the same
    /// upstream gradient and compares the value and every input gradient; <paramref name="names"/>
    /// defaults to "value", "grad input 0", ….</summary>
    public static void MatchesCpu<T>(Device device, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs,
        double tolerance, string what, long seed, string[]? names = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var expected = ForwardBackward(Device.Cpu, function, inputs, seed);
        var actual = ForwardBackward(device, function, inputs, seed);
        names ??= ["value", .. Enumerable.Range(0, inputs.Length).Select(i => $"grad input {i}")];
        AssertClose(expected, actual, names, tolerance, $"{device.Name} {typeof(T).Name} {what}");
    }

    /// <summary>Compares every result of a device run with the CPU run, naming each.</summary>
    public static void AssertClose<T>(Tensor<T>[] expected, Tensor<T>[] actual, string[] names, double tolerance, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.AreEqual(expected.Length, actual.Length, $"{what}: result count");
        for (int i = 0; i < expected.Length; i++)
            Support.TensorAssert.Close(expected[i], actual[i], tolerance, $"{what}: {names[i]}");
    }

    /// <summary>Bitwise equality of every result of two runs.</summary>
    public static void AssertIdentical<T>(Tensor<T>[] first, Tensor<T>[] second, string[] names, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < first.Length; i++)
        {
            var a = first[i].ToArray();
            var b = second[i].ToArray();
            for (int e = 0; e < a.Length; e++)
                if (!a[e].Equals(b[e]))
                    Assert.Fail($"{what}: {names[i]} differs between runs at flat index {e}: {a[e]} vs {b[e]}.");
        }
    }
}

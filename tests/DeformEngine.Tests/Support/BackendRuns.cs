namespace DeformEngine.Tests.Support;

/// <summary>Runs a function forward and backward on one backend and compares it with the CPU reference.</summary>
public static class BackendRuns
{
    /// <summary>
    /// Copies <paramref name="inputs"/> to <paramref name="device"/> as leaves (requiring a gradient where
    /// <paramref name="requires"/> says, all by default), evaluates <paramref name="function"/>,
    /// back-propagates Σ output ⊙ R for a seeded random R, and returns [output, ∂/∂input0, ∂/∂input1, …]
    /// on the CPU (null for an input that required none).
    /// </summary>
    public static Tensor<T>?[] ForwardBackward<T>(Device device, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs,
        long seed, bool[]? requires = null) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var leaves = inputs.Select((x, i) =>
        {
            var leaf = x.Detach().To(device);
            leaf.RequiresGrad = requires?[i] ?? true;
            return leaf;
        }).ToArray();
        var output = function(leaves);
        Assert.AreSame(device, output.Device, "the op runs where its inputs are");
        var upstream = Tensor<T>.Randn(seed, output.Shape).To(device);
        output.Mul(upstream).Sum().Backward();
        var results = new List<Tensor<T>?> { output.To(Device.Cpu) };
        foreach (var leaf in leaves)
        {
            if (!leaf.RequiresGrad)
            {
                Assert.IsNull(leaf.Grad, "an input that requires no gradient gets none");
                results.Add(null);
                continue;
            }
            Assert.IsNotNull(leaf.Grad, "every input that requires a gradient gets one");
            Assert.AreSame(device, leaf.Grad.Device, "gradients stay on the device");
            results.Add(leaf.Grad.To(Device.Cpu));
        }
        return [.. results];
    }

    /// <summary>Runs <paramref name="function"/> on the CPU reference and on <paramref name="backend"/> with
    /// the same inputs and upstream gradient, and compares the value and every input gradient;
    /// <paramref name="names"/> defaults to "value", "grad input 0", ….</summary>
    public static void MatchesReference<T>(string backend, Func<Tensor<T>[], Tensor<T>> function, Tensor<T>[] inputs,
        Tolerance tolerance, string what, long seed, string[]? names = null, bool[]? requires = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Tensor<T>?[] expected;
        using (TestBackends.Open(TestBackends.CpuReference))
            expected = ForwardBackward(Device.Cpu, function, inputs, seed, requires);
        using var candidate = TestBackends.Open<T>(backend);
        var actual = ForwardBackward(candidate.Device, function, inputs, seed, requires);
        names ??= ["value", .. Enumerable.Range(0, inputs.Length).Select(i => $"grad input {i}")];
        AssertClose(expected, actual, names, candidate.Tolerance<T>(tolerance), $"{backend} {typeof(T).Name} {what}");
    }

    /// <summary>Compares every result of two runs, naming each; both must have computed the same ones.</summary>
    public static void AssertClose<T>(Tensor<T>?[] expected, Tensor<T>?[] actual, string[] names, double tolerance, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.HasCount(expected.Length, actual, $"{what}: result count");
        Assert.HasCount(expected.Length, names, $"{what}: names");
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i] is null, actual[i] is null, $"{what}: {names[i]} presence");
            if (expected[i] is { } e) TensorAssert.Close(e, actual[i]!, tolerance, $"{what}: {names[i]}");
        }
    }

    /// <summary>Bitwise equality of every result of two runs.</summary>
    public static void AssertIdentical<T>(Tensor<T>?[] first, Tensor<T>?[] second, string[] names, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Assert.HasCount(first.Length, second, $"{what}: result count");
        for (int i = 0; i < first.Length; i++)
        {
            Assert.AreEqual(first[i] is null, second[i] is null, $"{what}: {names[i]} presence");
            if (first[i] is null) continue;
            var a = first[i]!.ToArray();
            var b = second[i]!.ToArray();
            for (int e = 0; e < a.Length; e++)
                if (!a[e].Equals(b[e]))
                    Assert.Fail($"{what}: {names[i]} differs between runs at flat index {e}: {a[e]:R} vs {b[e]:R}.");
        }
    }
}

using DeformEngine.Gpu;

namespace DeformEngine.Tests.Gpu;

/// <summary>DeformConv2d on each GPU backend against the CPU path: forward and every gradient.</summary>
[TestClass]
public class GpuDeformConv2dTests
{
    // Float sums of up to a few hundred products, in other orders (atomics, GEMM tiles, the sum
    // of the loss) than on the CPU: a few ulps of the largest value, far below this.
    private const double FloatTolerance = 1e-4;

    // The same sums in double; the deterministic fixed-point scatter keeps 2^-62 of its bound.
    private const double DoubleTolerance = 1e-10;

    public sealed record Case(string Name, int N, int C, int H, int W, int O, int Kh, int Kw,
        (int H, int W) Stride, (int H, int W) Padding, (int H, int W) Dilation, int Groups, int OffsetGroups,
        bool Mask, bool Bias, double OffsetScale = 1.5)
    {
        public override string ToString() => Name;
    }

    private static readonly Case[] Fixed =
    [
        new("k3_pad1_mask_bias", 2, 4, 7, 6, 5, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true),
        new("odd_k3x2_nomask_nobias", 3, 3, 9, 5, 7, 3, 2, (1, 1), (0, 1), (1, 1), 1, 1, false, false),
        new("stride2_og2_mask", 2, 4, 8, 7, 4, 3, 3, (2, 2), (1, 1), (1, 1), 1, 2, true, false),
        new("dilation2_pad2", 1, 2, 9, 9, 3, 3, 3, (1, 1), (2, 2), (2, 2), 1, 1, true, true),
        new("groups2_og2", 2, 4, 6, 6, 6, 3, 3, (1, 1), (1, 1), (1, 1), 2, 2, true, true),
        new("groups3_og2", 1, 6, 5, 6, 3, 3, 3, (1, 1), (1, 1), (1, 1), 3, 2, false, true),
        new("batch33", 33, 2, 5, 4, 3, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true),
        new("k1_og3_mask", 2, 3, 5, 5, 4, 1, 1, (1, 1), (0, 0), (1, 1), 1, 3, true, false),
        new("large_offsets", 2, 2, 6, 6, 2, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true, OffsetScale: 6),
        new("stride21_dil12_k2x3", 2, 2, 11, 8, 3, 2, 3, (2, 1), (1, 0), (1, 2), 1, 1, false, true),
    ];

    /// <summary>The fixed cases and four drawn from a seeded generator (odd sizes, any hyper-parameters).</summary>
    public static readonly Case[] Cases = [.. Fixed, .. RandomCases(4, seed: 2024)];

    public static IEnumerable<object[]> FloatRuns =>
        from backend in GpuTestDevices.Backends from c in Cases select new object[] { backend, c.Name };

    public static IEnumerable<object[]> DoubleRuns =>
        from backend in GpuTestDevices.Backends from c in Fixed select new object[] { backend, c.Name };

    [TestMethod]
    [DynamicData(nameof(FloatRuns))]
    public void DeformConv2d_Float_MatchesCpuForwardAndEveryGradient(string backend, string caseName)
    {
        var device = GpuTestDevices.Shared<float>(backend);
        var c = Cases.Single(x => x.Name == caseName);
        var inputs = Inputs<float>(c, seed: 11);
        var expected = GpuOpRunner.ForwardBackward(Device.Cpu, Function<float>(c), inputs, seed: 12);
        var actual = GpuOpRunner.ForwardBackward(device, Function<float>(c), inputs, seed: 12);
        GpuOpRunner.AssertClose(expected, actual, Names(c), FloatTolerance, $"{backend} {c}");
    }

    [TestMethod]
    [DynamicData(nameof(DoubleRuns))]
    public void DeformConv2d_Double_MatchesCpuForwardAndEveryGradient(string backend, string caseName)
    {
        var device = GpuTestDevices.Shared<double>(backend);
        var c = Cases.Single(x => x.Name == caseName);
        var inputs = Inputs<double>(c, seed: 21);
        var expected = GpuOpRunner.ForwardBackward(Device.Cpu, Function<double>(c), inputs, seed: 22);
        var actual = GpuOpRunner.ForwardBackward(device, Function<double>(c), inputs, seed: 22);
        GpuOpRunner.AssertClose(expected, actual, Names(c), DoubleTolerance, $"{backend} {c}");
    }

    [TestMethod]
    [DataRow("CpuAccelerator", "float")]
    [DataRow("OpenCL", "float")]
    [DataRow("CpuAccelerator", "double")]
    [DataRow("OpenCL", "double")]
    [DataRow("CUDA", "float")]
    [DataRow("CUDA", "double")]
    public void DeformConv2d_DeterministicMode_BitwiseIdenticalAcrossRunsAndCloseToCpu(string backend, string precision)
    {
        using var device = GpuTestDevices.OpenNew(backend);
        device.Deterministic = true;
        if (precision == "float") CheckDeterministic<float>(device, FloatTolerance);
        else CheckDeterministic<double>(device, DoubleTolerance);
    }

    private static void CheckDeterministic<T>(GpuDevice device, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        GpuTestDevices.RequirePrecision<T>(device);
        // Many sampling points land on the same cells (big offsets, batch 33): the case where atomics
        // would add in a varying order.
        foreach (var c in new[] { Fixed[6], Fixed[8], Fixed[4] })
        {
            var inputs = Inputs<T>(c, seed: 31);
            var first = GpuOpRunner.ForwardBackward(device, Function<T>(c), inputs, seed: 32);
            var second = GpuOpRunner.ForwardBackward(device, Function<T>(c), inputs, seed: 32);
            GpuOpRunner.AssertIdentical(first, second, Names(c), $"{device.Name} {c}");
            var expected = GpuOpRunner.ForwardBackward(Device.Cpu, Function<T>(c), inputs, seed: 32);
            GpuOpRunner.AssertClose(expected, first, Names(c), tolerance, $"{device.Name} deterministic {c}");
        }
    }

    internal static Func<Tensor<T>[], Tensor<T>> Function<T>(Case c) where T : unmanaged, IFloatingPointIeee754<T> => x =>
        Functional.DeformConv2d(x[0], x[1], x[2], c.Bias ? x[3] : null, c.Stride, c.Padding, c.Dilation,
            c.Mask ? x[c.Bias ? 4 : 3] : null);

    internal static string[] Names(Case c) =>
        ["output", "grad input", "grad offset", "grad weight", .. c.Bias ? new[] { "grad bias" } : [], .. c.Mask ? new[] { "grad mask" } : []];

    /// <summary>input, offset, weight, [bias], [mask] for a case.</summary>
    internal static Tensor<T>[] Inputs<T>(Case c, long seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outH = (c.H + 2 * c.Padding.H - c.Dilation.H * (c.Kh - 1) - 1) / c.Stride.H + 1;
        int outW = (c.W + 2 * c.Padding.W - c.Dilation.W * (c.Kw - 1) - 1) / c.Stride.W + 1;
        int points = c.Kh * c.Kw;
        var list = new List<Tensor<T>>
        {
            Tensor<T>.Randn(seed, c.N, c.C, c.H, c.W),
            Tensor<T>.Randn(seed + 1, c.N, 2 * c.OffsetGroups * points, outH, outW).MulScalar(T.CreateChecked(c.OffsetScale)),
            Tensor<T>.Randn(seed + 2, c.O, c.C / c.Groups, c.Kh, c.Kw),
        };
        if (c.Bias) list.Add(Tensor<T>.Randn(seed + 3, c.O));
        if (c.Mask) list.Add(Tensor<T>.Rand(seed + 4, c.N, c.OffsetGroups * points, outH, outW));
        return [.. list];
    }

    private static IEnumerable<Case> RandomCases(int count, long seed)
    {
        var random = new SeededRandom(seed);
        for (int i = 0; i < count; i++)
        {
            int groups = 1 + random.NextInt(2), offsetGroups = 1 + random.NextInt(2);
            int channels = groups * offsetGroups * (1 + random.NextInt(2));
            int kh = 1 + random.NextInt(3), kw = 1 + random.NextInt(3);
            var stride = (1 + random.NextInt(2), 1 + random.NextInt(2));
            var dilation = (1 + random.NextInt(2), 1 + random.NextInt(2));
            var padding = (random.NextInt(2), random.NextInt(2));
            int h = dilation.Item1 * (kh - 1) + 1 + random.NextInt(6), w = dilation.Item2 * (kw - 1) + 1 + random.NextInt(6);
            yield return new Case($"random{i}", 1 + random.NextInt(4), channels, h, w, groups * (1 + random.NextInt(3)), kh, kw,
                stride, padding, dilation, groups, offsetGroups, random.NextInt(2) == 0, random.NextInt(2) == 0);
        }
    }
}

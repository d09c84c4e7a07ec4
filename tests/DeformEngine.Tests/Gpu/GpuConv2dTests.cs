namespace DeformEngine.Tests.Gpu;

/// <summary>Conv2d on each GPU backend against the CPU path: forward and every gradient.</summary>
[TestClass]
public class GpuConv2dTests
{
    // Float dot products of ≤ 100 terms summed in a different order than on the CPU.
    private const double FloatTolerance = 1e-4;
    private const double DoubleTolerance = 1e-11;

    public sealed record Case(string Name, int N, int C, int H, int W, int O, int Kh, int Kw,
        (int H, int W) Stride, (int H, int W) Padding, (int H, int W) Dilation, int Groups, bool Bias)
    {
        public override string ToString() => Name;
    }

    public static readonly Case[] Cases =
    [
        new("k3_pad1_bias", 2, 3, 7, 6, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1, true),
        new("odd_k2x3_nobias", 3, 2, 9, 5, 5, 2, 3, (1, 1), (0, 1), (1, 1), 1, false),
        new("stride2", 2, 4, 9, 8, 3, 3, 3, (2, 2), (1, 1), (1, 1), 1, true),
        new("dilation2", 1, 2, 9, 9, 3, 3, 3, (1, 1), (2, 2), (2, 2), 1, true),
        new("groups2", 2, 4, 6, 6, 6, 3, 3, (1, 1), (1, 1), (1, 1), 2, true),
        new("depthwise", 2, 3, 5, 7, 3, 3, 3, (1, 2), (1, 1), (1, 1), 3, false),
        new("batch33", 33, 2, 5, 4, 3, 3, 3, (1, 1), (1, 1), (1, 1), 1, true),
        new("k1", 2, 5, 4, 4, 2, 1, 1, (1, 1), (0, 0), (1, 1), 1, true),
        new("stride3_dil2_pad3_nonsquare", 2, 2, 13, 10, 3, 3, 2, (3, 2), (3, 1), (2, 3), 1, true),
    ];

    public static IEnumerable<object[]> Runs =>
        from backend in GpuTestDevices.Backends from precision in new[] { "float", "double" } from c in Cases
        select new object[] { backend, precision, c.Name };

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void Conv2d_MatchesCpuForwardAndEveryGradient(string backend, string precision, string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        if (precision == "float") Check<float>(backend, c, FloatTolerance);
        else Check<double>(backend, c, DoubleTolerance);
    }

    private static void Check<T>(string backend, Case c, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = GpuTestDevices.Shared<T>(backend);
        var inputs = new List<Tensor<T>>
        {
            Tensor<T>.Randn(41, c.N, c.C, c.H, c.W),
            Tensor<T>.Randn(42, c.O, c.C / c.Groups, c.Kh, c.Kw),
        };
        if (c.Bias) inputs.Add(Tensor<T>.Randn(43, c.O));
        Func<Tensor<T>[], Tensor<T>> function = x =>
            Functional.Conv2d(x[0], x[1], c.Bias ? x[2] : null, c.Stride, c.Padding, c.Dilation, c.Groups);
        string[] names = ["output", "grad input", "grad weight", .. c.Bias ? new[] { "grad bias" } : []];
        var expected = GpuOpRunner.ForwardBackward(Device.Cpu, function, [.. inputs], seed: 44);
        var actual = GpuOpRunner.ForwardBackward(device, function, [.. inputs], seed: 44);
        GpuOpRunner.AssertClose(expected, actual, names, tolerance, $"{backend} {typeof(T).Name} {c}");
    }
}

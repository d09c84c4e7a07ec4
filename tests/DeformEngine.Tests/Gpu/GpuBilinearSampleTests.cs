namespace DeformEngine.Tests.Gpu;

/// <summary>BilinearSample on each GPU backend against the CPU path, and its deterministic mode.</summary>
[TestClass]
public class GpuBilinearSampleTests
{
    // Channel sums of a handful of float products; the scatter adds ≤ P terms per cell in another order.
    private const double FloatTolerance = 1e-4;
    private const double DoubleTolerance = 1e-11;

    public sealed record Case(string Name, int N, int C, int H, int W, int P, double Spread, bool NonFinite = false)
    {
        public override string ToString() => Name;
    }

    public static readonly Case[] Cases =
    [
        new("inside", 2, 3, 6, 5, 40, 1.0),
        new("odd_border_straddle", 3, 1, 7, 3, 33, 1.4),
        new("far_outside", 1, 2, 4, 4, 30, 3.0),
        new("batch33", 33, 2, 3, 5, 9, 1.2),
        new("crowded", 1, 2, 2, 2, 200, 1.0),
        new("non_finite", 2, 2, 5, 5, 12, 1.0, NonFinite: true),
    ];

    public static IEnumerable<object[]> Runs =>
        from backend in GpuTestDevices.Backends from precision in new[] { "float", "double" } from c in Cases
        select new object[] { backend, precision, c.Name };

    [TestMethod]
    [DynamicData(nameof(Runs))]
    public void BilinearSample_MatchesCpuForwardAndBothGradients(string backend, string precision, string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        if (precision == "float") Check<float>(GpuTestDevices.Shared<float>(backend), c, FloatTolerance);
        else Check<double>(GpuTestDevices.Shared<double>(backend), c, DoubleTolerance);
    }

    [TestMethod]
    [DataRow("CpuAccelerator")]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void BilinearSample_DeterministicMode_BitwiseIdenticalAcrossRuns(string backend)
    {
        using var device = GpuTestDevices.OpenNew(backend);
        device.Deterministic = true;
        foreach (var c in Cases.Where(x => !x.NonFinite))
        {
            var inputs = Inputs<float>(c);
            var first = GpuOpRunner.ForwardBackward(device, Function<float>(), inputs, seed: 53);
            var second = GpuOpRunner.ForwardBackward(device, Function<float>(), inputs, seed: 53);
            GpuOpRunner.AssertIdentical(first, second, Names, $"{device.Name} {c}");
            var expected = GpuOpRunner.ForwardBackward(Device.Cpu, Function<float>(), inputs, seed: 53);
            GpuOpRunner.AssertClose(expected, first, Names, FloatTolerance, $"{device.Name} deterministic {c}");
        }
    }

    private static readonly string[] Names = ["output", "grad input", "grad coords"];

    private static Func<Tensor<T>[], Tensor<T>> Function<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        x => Functional.BilinearSample(x[0], x[1]);

    private static void Check<T>(Device device, Case c, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inputs = Inputs<T>(c);
        var expected = GpuOpRunner.ForwardBackward(Device.Cpu, Function<T>(), inputs, seed: 53);
        var actual = GpuOpRunner.ForwardBackward(device, Function<T>(), inputs, seed: 53);
        GpuOpRunner.AssertClose(expected, actual, Names, tolerance, $"{device.Name} {typeof(T).Name} {c}");
    }

    /// <summary>Coordinates spread over (−Spread·H/2 … (1 + Spread/2)·H) so that some points fall outside.</summary>
    private static Tensor<T>[] Inputs<T>(Case c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = Tensor<T>.Randn(51, c.N, c.C, c.H, c.W);
        var unit = Tensor<double>.Rand(52, c.N, c.P, 2).ToArray();
        var coords = new T[unit.Length];
        for (int i = 0; i < unit.Length; i++)
        {
            int size = i % 2 == 0 ? c.H : c.W;
            coords[i] = T.CreateChecked((unit[i] * (1 + c.Spread) - c.Spread / 2) * size - 0.5);
        }
        if (c.NonFinite)
        {
            coords[0] = T.NaN;
            coords[3] = T.PositiveInfinity;
            coords[6] = T.NegativeInfinity;
        }
        return [input, Tensor<T>.FromArray(coords, c.N, c.P, 2)];
    }
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>The element-wise, reduction and atomic primitives of a device against closed forms and the CPU.</summary>
[TestClass]
public class GpuElementwiseTests
{
    // One rounding of a*x+y per element; a device may fuse it (FMA), the CPU here does not.
    private const double AxpyFloatTolerance = 1e-6;
    private const double AxpyDoubleTolerance = 1e-15;

    // A sum of n terms in another order errs by about log2(n)·eps·Σ|x|; these bound it with margin for n ≤ 1e5.
    private const double SumFloatRelativeTolerance = 1e-5;
    private const double SumDoubleRelativeTolerance = 1e-13;

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void Axpy_ScalarOpsAndAdd_MatchClosedForm(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        const int count = 1000;
        const double alpha = 0.75;
        double[] x = GpuMemoryTests.RandomValues(count, seed: 3);
        double[] y = GpuMemoryTests.RandomValues(count, seed: 4);
        var singles = Tensor<float>.FromArray(x.Select(v => (float)v).ToArray(), count).To(device).MulScalar((float)alpha)
            .Add(Tensor<float>.FromArray(y.Select(v => (float)v).ToArray(), count).To(device)).ToArray();
        for (int i = 0; i < count; i++)
            Assert.AreEqual(alpha * (float)x[i] + (float)y[i], singles[i], AxpyFloatTolerance, $"float element {i}");
        GpuTestDevices.RequirePrecision<double>(device);
        var doubles = Tensor<double>.FromArray(x, count).To(device).MulScalar(alpha).Add(Tensor<double>.FromArray(y, count).To(device)).ToArray();
        for (int i = 0; i < count; i++)
            Assert.AreEqual(alpha * x[i] + y[i], doubles[i], AxpyDoubleTolerance, $"double element {i}");
    }

    [TestMethod]
    [DataRow(TestBackends.CpuAccelerator, 1)]
    [DataRow(TestBackends.CpuAccelerator, 63)]
    [DataRow(TestBackends.CpuAccelerator, 64)]
    [DataRow(TestBackends.CpuAccelerator, 65)]
    [DataRow(TestBackends.CpuAccelerator, 4097)]
    [DataRow(TestBackends.CpuAccelerator, 100003)]
    [DataRow(TestBackends.OpenCL, 100003)]
    [DataRow(TestBackends.Cuda, 1)]
    [DataRow(TestBackends.Cuda, 65)]
    [DataRow(TestBackends.Cuda, 100003)]
    public void Sum_Size_MatchesExactSumInBothPrecisions(string backend, int count)
    {
        var device = GpuTestDevices.Shared(backend);
        double[] values = GpuMemoryTests.RandomValues(count, seed: count);
        float[] singles = values.Select(v => (float)v).ToArray();
        double sumOfMagnitudes = values.Sum(Math.Abs);
        double actualSingle = Tensor<float>.FromArray(singles, count).To(device).Sum().Item();
        Assert.AreEqual(singles.Sum(v => (double)v), actualSingle, SumFloatRelativeTolerance * sumOfMagnitudes, "float");
        GpuTestDevices.RequirePrecision<double>(device);
        double actualDouble = Tensor<double>.FromArray(values, count).To(device).Sum().Item();
        Assert.AreEqual(values.Sum(), actualDouble, SumDoubleRelativeTolerance * sumOfMagnitudes, "double");
    }

    /// <summary>
    /// 100,000 bilinear samples at integer coordinates of a 2×2 plane (all weight on one corner), with upstream values
    /// that are multiples of 1/256 below 4: every partial sum of a cell stays below 2^16 and is exact in float, so any
    /// order of the atomic adds gives the closed-form sum, and a lost update (a broken atomic) cannot hide inside a
    /// tolerance.
    /// </summary>
    [TestMethod]
    [DataRow(TestBackends.CpuAccelerator, "float")]
    [DataRow(TestBackends.CpuAccelerator, "double")]
    [DataRow(TestBackends.OpenCL, "float")]
    [DataRow(TestBackends.Cuda, "float")]
    [DataRow(TestBackends.Cuda, "double")]
    public void ScatterAdd_ManyPointsFewCells_EqualsExactSum(string backend, string precision)
    {
        if (precision == "float") CheckScatter<float>(backend);
        else CheckScatter<double>(backend);
    }

    private static void CheckScatter<T>(string backend) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = GpuTestDevices.Shared<T>(backend);
        const int points = 100_000;
        var random = new Random(5);
        var coords = new T[points * 2];
        var upstream = new T[points];
        var expected = new double[4];
        for (int p = 0; p < points; p++)
        {
            int y = random.Next(2), x = random.Next(2);
            coords[2 * p] = T.CreateChecked(y);
            coords[2 * p + 1] = T.CreateChecked(x);
            double value = random.Next(1024) / 256.0;
            upstream[p] = T.CreateChecked(value);
            expected[y * 2 + x] += value;
        }
        var input = Tensor<T>.Zeros(1, 1, 2, 2).To(device);
        input.RequiresGrad = true;
        var output = Functional.BilinearSample(input, Tensor<T>.FromArray(coords, 1, points, 2).To(device));
        output.Backward(Tensor<T>.FromArray(upstream, 1, 1, points).To(device));
        CollectionAssert.AreEqual(expected, input.Grad!.ToArray().Select(v => double.CreateChecked(v)).ToArray());
    }
}

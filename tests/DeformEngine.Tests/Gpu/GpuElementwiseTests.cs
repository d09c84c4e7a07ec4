using DeformEngine.Gpu;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Tests.Gpu;

[TestClass]
public class GpuElementwiseTests
{
    // One rounding of a*x+y per element; a device may fuse it (FMA), the CPU here does not.
    private const double AxpyFloatTolerance = 1e-6;
    private const double AxpyDoubleTolerance = 1e-15;

    // A tree sum of n terms errs by about log2(n)·eps·Σ|x|; these bound it with margin for n ≤ 1e5.
    private const double SumFloatRelativeTolerance = 1e-5;
    private const double SumDoubleRelativeTolerance = 1e-13;

    [TestMethod]
    [DataRow("OpenCL", GpuPrecision.Single)]
    [DataRow("OpenCL", GpuPrecision.Double)]
    [DataRow("CUDA", GpuPrecision.Single)]
    [DataRow("CUDA", GpuPrecision.Double)]
    public void Axpy_PartialLastGroup_MatchesCpu(string backend, GpuPrecision precision)
    {
        using GpuContext context = GpuTestBackends.Open(backend, precision);
        const int count = 1000;
        const double alpha = 0.75;
        double[] x = GpuMemoryTests.RandomValues(count, seed: 3);
        double[] y = GpuMemoryTests.RandomValues(count, seed: 4);
        double[] expected = x.Zip(y, (xi, yi) => alpha * xi + yi).ToArray();

        GpuKernel axpy = Compile(context, precision).GetKernel("axpy");
        double[] actual;
        if (precision == GpuPrecision.Single)
        {
            using GpuBuffer xBuffer = context.ToDevice<float>(ToFloat(x));
            using GpuBuffer yBuffer = context.ToDevice<float>(ToFloat(y));
            axpy.Launch(count, [xBuffer, yBuffer, (float)alpha, (long)count]);
            actual = context.ToHost<float>(yBuffer, count).Select(v => (double)v).ToArray();
        }
        else
        {
            using GpuBuffer xBuffer = context.ToDevice<double>(x);
            using GpuBuffer yBuffer = context.ToDevice<double>(y);
            axpy.Launch(count, [xBuffer, yBuffer, alpha, (long)count]);
            actual = context.ToHost<double>(yBuffer, count);
        }
        double tolerance = precision == GpuPrecision.Single ? AxpyFloatTolerance : AxpyDoubleTolerance;
        for (int i = 0; i < count; i++)
            Assert.AreEqual(expected[i], actual[i], tolerance, $"element {i}");
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Fill_Double_WritesOnlyFirstN(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend, GpuPrecision.Double);
        using GpuBuffer buffer = context.Allocate(10 * sizeof(double));
        context.Zero(buffer);
        Compile(context, GpuPrecision.Double).GetKernel("fill").Launch(7, [buffer, 2.5, 7L]);
        CollectionAssert.AreEqual(new[] { 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 0, 0, 0 }, context.ToHost<double>(buffer, 10));
    }

    [TestMethod]
    [DataRow("OpenCL", 1)]
    [DataRow("OpenCL", 255)]
    [DataRow("OpenCL", 256)]
    [DataRow("OpenCL", 257)]
    [DataRow("OpenCL", 100003)]
    [DataRow("CUDA", 1)]
    [DataRow("CUDA", 255)]
    [DataRow("CUDA", 256)]
    [DataRow("CUDA", 257)]
    [DataRow("CUDA", 100003)]
    public void SumReduce_Size_MatchesCpuInBothPrecisions(string backend, int count)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        double[] values = GpuMemoryTests.RandomValues(count, seed: count);
        float[] singles = ToFloat(values);
        double expectedSingle = singles.Sum(v => (double)v);
        double sumOfMagnitudes = values.Sum(Math.Abs);

        using GpuBuffer singleBuffer = context.ToDevice<float>(singles);
        double actualSingle = Sum<float>(context, GpuPrecision.Single, singleBuffer, count);
        Assert.AreEqual(expectedSingle, actualSingle, SumFloatRelativeTolerance * sumOfMagnitudes, "float");

        if (!context.SupportsDouble)
            Assert.Inconclusive($"float passed; '{context.Name}' has no double-precision support");
        using GpuBuffer doubleBuffer = context.ToDevice<double>(values);
        double actualDouble = Sum<double>(context, GpuPrecision.Double, doubleBuffer, count);
        Assert.AreEqual(values.Sum(), actualDouble, SumDoubleRelativeTolerance * sumOfMagnitudes, "double");
    }

    /// <summary>
    /// Values are multiples of 1/256 below 4 and each cell's total stays below 2^16, so every
    /// partial sum is exact in float: any order gives the CPU's answer, and a lost update (a
    /// broken atomic) cannot hide inside a tolerance.
    /// </summary>
    [TestMethod]
    [DataRow("OpenCL", GpuPrecision.Single)]
    [DataRow("OpenCL", GpuPrecision.Double)]
    [DataRow("CUDA", GpuPrecision.Single)]
    [DataRow("CUDA", GpuPrecision.Double)]
    public void ScatterAdd_ManyItemsFewCells_EqualsCpuSum(string backend, GpuPrecision precision)
    {
        using GpuContext context = GpuTestBackends.Open(backend, precision);
        const int count = 100_000;
        const int cells = 7;
        var random = new Random(5);
        double[] values = Enumerable.Range(0, count).Select(_ => random.Next(1024) / 256.0).ToArray();
        int[] index = Enumerable.Range(0, count).Select(_ => random.Next(cells)).ToArray();
        var expected = new double[cells];
        for (int i = 0; i < count; i++)
            expected[index[i]] += values[i];

        GpuKernel scatterAdd = Compile(context, precision).GetKernel("scatter_add");
        using GpuBuffer indexBuffer = context.ToDevice<int>(index);
        double[] actual;
        if (precision == GpuPrecision.Single)
        {
            using GpuBuffer valueBuffer = context.ToDevice<float>(ToFloat(values));
            using GpuBuffer cellBuffer = context.Allocate(cells * sizeof(float));
            context.Zero(cellBuffer);
            scatterAdd.Launch(count, [valueBuffer, indexBuffer, cellBuffer, (long)count]);
            actual = context.ToHost<float>(cellBuffer, cells).Select(v => (double)v).ToArray();
        }
        else
        {
            using GpuBuffer valueBuffer = context.ToDevice<double>(values);
            using GpuBuffer cellBuffer = context.Allocate(cells * sizeof(double));
            context.Zero(cellBuffer);
            scatterAdd.Launch(count, [valueBuffer, indexBuffer, cellBuffer, (long)count]);
            actual = context.ToHost<double>(cellBuffer, cells);
        }
        CollectionAssert.AreEqual(expected, actual);
    }

    private static GpuProgram Compile(GpuContext context, GpuPrecision precision) =>
        context.Compile(ElementwiseKernels.SourceName, ElementwiseKernels.Source, precision);

    /// <summary>Reduces <paramref name="count"/> elements to one by repeated group sums (at least one pass).</summary>
    private static unsafe double Sum<T>(GpuContext context, GpuPrecision precision, GpuBuffer input, long count) where T : unmanaged
    {
        GpuKernel reduce = Compile(context, precision).GetKernel("sum_reduce");
        const int groupSize = ElementwiseKernels.ReduceGroupSize;
        var passes = new List<GpuBuffer>();
        GpuBuffer current = input;
        try
        {
            do
            {
                long groups = (count + groupSize - 1) / groupSize;
                GpuBuffer partial = context.Allocate(groups * sizeof(T));
                passes.Add(partial);
                reduce.Launch(count, [current, partial, count], groupSize);
                (current, count) = (partial, groups);
            }
            while (count > 1);
            T result = context.ToHost<T>(current, 1)[0];
            return Convert.ToDouble(result);
        }
        finally
        {
            passes.ForEach(buffer => buffer.Dispose());
        }
    }

    private static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();
}

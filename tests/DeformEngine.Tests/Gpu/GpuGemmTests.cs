using DeformEngine.Gpu;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>The device GEMM primitive against Core's CPU GEMM on odd shapes, transposes and batches.</summary>
[TestClass]
public class GpuGemmTests
{
    // Both sum each element over p = 0 … k−1 in order; only fused multiply-adds may differ.
    private const double FloatTolerance = 1e-5;
    private const double DoubleTolerance = 1e-13;

    [TestMethod]
    [DataRow(TestBackends.CpuAccelerator, "float")]
    [DataRow(TestBackends.OpenCL, "float")]
    [DataRow(TestBackends.CpuAccelerator, "double")]
    [DataRow(TestBackends.OpenCL, "double")]
    [DataRow(TestBackends.Cuda, "float")]
    [DataRow(TestBackends.Cuda, "double")]
    public void Gemm_RandomShapesTransposesAndBatches_MatchesCpu(string backend, string precision)
    {
        if (precision == "float") Check<float>(backend, FloatTolerance);
        else Check<double>(backend, DoubleTolerance);
    }

    /// <summary>The tiled kernel with tiles of 1, 2 and 4 threads a side and k past one 64-deep stage: the CPU's products,
    /// and bitwise the same for every tile, since each element is summed over p = 0 … k−1 in order whatever the tile.</summary>
    [TestMethod]
    public void Gemm_TileSizes_MatchCpuAndEachOtherBitwise()
    {
        using var device = CpuAcceleratorDevice.Open(groupSize: 16, processors: 2);
        double[]? first = null;
        foreach (int groupSize in new[] { 1, 4, 16 })
        {
            device.GroupSize = groupSize;
            var result = CheckOne<double>(device, device, 13, 9, 150, 2, 1, transA: true, transB: false, 0.0, seed: 7, DoubleTolerance);
            if (first is null) first = result;
            else CollectionAssert.AreEqual(first, result, $"group size {groupSize} against group size 1");
        }
    }

    [TestMethod]
    public void Gemm_CudaTiledKernelInsteadOfCuBlas_MatchesCpu()
    {
        using var device = GpuTestDevices.OpenNew(TestBackends.Cuda);
        device.GemmKernel = GpuGemm.TiledKernel;
        StringAssert.Contains(device.GemmDescription, "tiled");
        CheckOne<float>(device, device, 70, 45, 130, 2, 2, transA: false, transB: true, 0f, seed: 8, FloatTolerance);
    }

    private static void Check<T>(string backend, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var device = GpuTestDevices.Shared<T>(backend);
        var ops = (DeformEngine.Gpu.GpuDevice)device;
        var random = new SeededRandom(61);
        (int M, int N, int K)[] shapes = [(1, 1, 1), (17, 33, 5), (16, 16, 16), (3, 40, 1), (31, 2, 47), (1, 65, 19)];
        int run = 0;
        foreach (var (m, n, k) in shapes)
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                {
                    int outer = 1 + random.NextInt(3), inner = 1 + random.NextInt(2);
                    T beta = run % 3 == 0 ? T.One : T.Zero;
                    CheckOne<T>(device, ops, m, n, k, outer, inner, transA, transB, beta, seed: 100 + run++, tolerance);
                }
    }

    /// <summary>A and C are batched over outer and inner; B is shared across outer (stride 0) as the
    /// convolution's weight is.</summary>
    private static T[] CheckOne<T>(Device device, DeformEngine.Gpu.GpuDevice ops, int m, int n, int k, int outer, int inner,
        bool transA, bool transB, T beta, long seed, double tolerance) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int sizeA = m * k, sizeB = k * n, sizeC = m * n;
        var a = Tensor<T>.Randn(seed, outer * inner * sizeA + 3);
        var b = Tensor<T>.Randn(seed + 1, inner * sizeB);
        var c = Tensor<T>.Randn(seed + 2, outer * inner * sizeC);
        int lda = transA ? m : k, ldb = transB ? k : n;

        var expected = c.ToArray();
        var av = a.ToArray();
        var bv = b.ToArray();
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
                DeformEngine.Cpu.Gemm.Multiply(transA, transB, m, n, k, T.One,
                    av.AsSpan(3 + (o * inner + i) * sizeA, sizeA), lda, bv.AsSpan(i * sizeB, sizeB), ldb,
                    beta, expected.AsSpan((o * inner + i) * sizeC, sizeC), n);

        var da = a.To(device);
        var db = b.To(device);
        var dc = c.To(device);
        ops.BatchedGemm(m, n, k, outer, inner,
            new DeviceMatrix(da.Buffer!, 3, lda, (long)inner * sizeA, sizeA, transA),
            new DeviceMatrix(db.Buffer!, 0, ldb, 0, sizeB, transB),
            beta,
            new DeviceMatrix(dc.Buffer!, 0, n, (long)inner * sizeC, sizeC));
        var actual = dc.To(Device.Cpu);
        Support.TensorAssert.Close(Tensor<T>.FromArray(expected, expected.Length), actual, tolerance,
            $"{device.Name} gemm m={m} n={n} k={k} batch {outer}×{inner} transA={transA} transB={transB} beta={beta}");
        return actual.ToArray();
    }
}

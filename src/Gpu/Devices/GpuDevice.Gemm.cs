using ILGPU;
using ILGPU.Runtime;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The batched GEMM that the products of Core and of the convolutions run on: cuBLAS on a CUDA device
/// where it is found, else the tiled kernel of <see cref="GemmGpuKernels"/>.</summary>
public abstract partial class GpuDevice
{
    // k values staged per tile load of the GEMM kernel: each barrier pair covers this many products.
    private const int GemmDepth = 64;

    private GpuGemm _gemm = GpuGemm.TiledKernel;
    private GpuGemm _vendorGemm = GpuGemm.TiledKernel;
    private string? _vendorGemmName;

    /// <summary>
    /// The code the matrix products run on: <see cref="GpuGemm.CuBlas"/> on a CUDA device where libcublas is found
    /// (the default there), else <see cref="GpuGemm.TiledKernel"/>. Settable to the tiled kernel anywhere (to test
    /// or compare it), and back to cuBLAS where available. Both sum each element in one order per run, so repeated
    /// runs give identical products (cuBLAS promises this for one GPU and one stream).
    /// </summary>
    public GpuGemm GemmKernel
    {
        get => _gemm;
        set => _gemm = value == GpuGemm.TiledKernel || value == _vendorGemm
            ? value
            : throw new NotSupportedException($"Device '{Name}' has no {value} (libcublas was not found, or this is not a CUDA device).");
    }

    /// <summary>What <see cref="Gemm"/> runs, in words: e.g. "cuBLAS (libcublas.so.13)" or "tiled GEMM kernel (16×16 threads)".</summary>
    public string GemmDescription => _gemm == GpuGemm.TiledKernel
        ? $"tiled GEMM kernel ({GemmTile}×{GemmTile} threads, {GemmDepth} products per stage)"
        : _vendorGemmName ?? _gemm.ToString();

    /// <summary>The side of the GEMM kernel's square tile: the largest power of two whose square fits in a group.</summary>
    private int GemmTile
    {
        get
        {
            int tile = 1;
            while (4 * tile * tile <= GroupSize) tile *= 2;
            return tile;
        }
    }

    private protected void InitialiseGemm(GpuGemm vendor, string? vendorName)
    {
        _vendorGemm = vendor;
        _vendorGemmName = vendorName;
        _gemm = vendor;
    }

    /// <summary>Runs the product on a vendor library when this device has one selected; false to use the kernel.</summary>
    private protected virtual bool TryVendorGemm<T>(GemmCall<T> call) where T : unmanaged, IFloatingPointIeee754<T> => false;

    /// <summary>C = op(A)·op(B) + beta·C for every (outer, inner) of the batch; beta = 0 does not read C.</summary>
    internal void BatchedGemm<T>(int m, int n, int k, int batchOuter, int batchInner, DeviceMatrix a, DeviceMatrix b, T beta, DeviceMatrix c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m < 0 || n < 0 || k < 0 || batchOuter < 0 || batchInner < 1)
            throw new ArgumentOutOfRangeException(nameof(m), $"Gemm sizes must be non-negative (batchInner positive), got m={m}, n={n}, k={k}, batch {batchOuter}×{batchInner}.");
        if (c.Transposed) throw new ArgumentException("c: the result cannot be transposed.", nameof(c));
        if (m == 0 || n == 0 || batchOuter == 0) return;
        var call = new GemmCall<T>(m, n, k, batchOuter, batchInner, Matrix<T>(a), Matrix<T>(b), beta, Matrix<T>(c));
        if (TryVendorGemm(call)) return;
        int tile = GemmTile;
        long jobs = (long)batchOuter * batchInner * ((m + tile - 1) / tile) * ((n + tile - 1) / tile);
        long maxGroups = Math.Max(1L, (long)Accelerator.NumMultiprocessors * _groupsPerMultiprocessor);
        var config = new KernelConfig((int)Math.Min(jobs, maxGroups), tile * tile, SharedMemoryConfig.RequestDynamic<T>(2 * tile * GemmDepth));
        var args = new GemmArgs(m, n, k, batchInner, (long)batchOuter * batchInner,
            a.Transposed ? 1 : 0, a.Offset, a.Ld, a.StrideOuter, a.StrideInner,
            b.Transposed ? 1 : 0, b.Offset, b.Ld, b.StrideOuter, b.StrideInner,
            c.Offset, c.Ld, c.StrideOuter, c.StrideInner, tile, GemmDepth);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, T, GemmArgs>(config, typeof(GemmGpuKernels), nameof(GemmGpuKernels.Tiled),
            call.A.Data, call.B.Data, call.C.Data, beta, args);
    }

    private MatrixView<T> Matrix<T>(DeviceMatrix matrix) where T : unmanaged =>
        new(View<T>(matrix.Buffer, nameof(matrix)), matrix.Offset, matrix.Ld, matrix.StrideOuter, matrix.StrideInner, matrix.Transposed);
}

/// <summary>A <see cref="DeviceMatrix"/> resolved to its device view.</summary>
internal readonly record struct MatrixView<T>(ArrayView<T> Data, long Offset, int Ld, long StrideOuter, long StrideInner, bool Transposed)
    where T : unmanaged;

/// <summary>One batched product C = op(A)·op(B) + Beta·C, as <see cref="GpuDevice.BatchedGemm{T}"/> takes it.</summary>
internal readonly record struct GemmCall<T>(int M, int N, int K, int BatchOuter, int BatchInner,
    MatrixView<T> A, MatrixView<T> B, T Beta, MatrixView<T> C)
    where T : unmanaged;

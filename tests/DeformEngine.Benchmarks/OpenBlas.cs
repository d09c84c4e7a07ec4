using System.Runtime.InteropServices;

namespace DeformEngine.Benchmarks;

/// <summary>OpenBLAS's sgemm/dgemm called in this process (Debian libopenblas0-pthread: the library
/// torch.mm runs on), so that the engine's GEMM and OpenBLAS's run interleaved on the same arrays,
/// timed the same way. Benchmarks only; the engine itself takes no native library.</summary>
public static unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly string[] Candidates =
        ["/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0", "libopenblas.so.0", "libopenblas.so"];

    private static readonly nint Handle = Load();

    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm =
        (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)Export("cblas_sgemm");

    private static readonly delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> Dgemm =
        (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)Export("cblas_dgemm");

    private static readonly delegate* unmanaged<int, void> SetThreads = (delegate* unmanaged<int, void>)Export("openblas_set_num_threads");

    private static readonly delegate* unmanaged<nint> CoreName = (delegate* unmanaged<nint>)Export("openblas_get_corename");

    private static readonly delegate* unmanaged<nint> Config = (delegate* unmanaged<nint>)Export("openblas_get_config");

    public static bool IsAvailable => Handle != 0;

    /// <summary>The kernel family OpenBLAS picked for this CPU (e.g. SkylakeX, Haswell; set
    /// OPENBLAS_CORETYPE=Haswell to make it run its AVX2 kernels) and its build configuration.</summary>
    public static string Describe() => IsAvailable
        ? $"OpenBLAS {Marshal.PtrToStringUTF8(Config())}, core {Marshal.PtrToStringUTF8(CoreName())}"
        : "OpenBLAS not found";

    public static void Threads(int threads) => SetThreads(threads);

    /// <summary>C = op(A)·op(B), row-major, the arguments of <see cref="DeformEngine.Cpu.Gemm.Multiply{T}"/>.</summary>
    public static void Multiply<T>(bool transA, bool transB, int m, int n, int k, T[] a, int lda, T[] b, int ldb, T[] c, int ldc)
        where T : unmanaged
    {
        int ta = transA ? Trans : NoTrans, tb = transB ? Trans : NoTrans;
        if (typeof(T) == typeof(float))
            fixed (float* pa = (float[])(object)a, pb = (float[])(object)b, pc = (float[])(object)c)
                Sgemm(RowMajor, ta, tb, m, n, k, 1f, pa, lda, pb, ldb, 0f, pc, ldc);
        else
            fixed (double* pa = (double[])(object)a, pb = (double[])(object)b, pc = (double[])(object)c)
                Dgemm(RowMajor, ta, tb, m, n, k, 1.0, pa, lda, pb, ldb, 0.0, pc, ldc);
    }

    private static nint Load()
    {
        foreach (string candidate in Candidates)
            if (NativeLibrary.TryLoad(candidate, out nint handle))
                return handle;
        return 0;
    }

    private static nint Export(string name) =>
        Handle != 0 && NativeLibrary.TryGetExport(Handle, name, out nint address) ? address : 0;
}

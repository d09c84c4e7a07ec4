namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// The macro header that lets one kernel text compile as CUDA C (NVRTC) and as OpenCL C 1.2.
/// Kernels write <c>KERNEL void f(GLOBAL real* x, int n)</c>, index with <c>GLOBAL_ID</c>, and
/// use <c>real</c> for every floating value so the same text serves float and double.
/// Math goes through <c>R_EXP</c>, <c>R_FLOOR</c> … (CUDA's float functions carry an f suffix);
/// <c>ATOMIC_ADD_L</c> adds to a 64-bit integer (the deterministic fixed-point accumulation; on
/// OpenCL it needs cl_khr_int64_base_atomics).
/// </summary>
internal static class KernelHeader
{
    public const string Cuda = """
        #define KERNEL extern "C" __global__
        #define DEVICE_FUNC static __device__ __forceinline__
        #define GLOBAL
        #define LOCAL __shared__
        #define GLOBAL_ID ((long)blockIdx.x * blockDim.x + threadIdx.x)
        #define LOCAL_ID ((int)threadIdx.x)
        #define LOCAL_SIZE ((int)blockDim.x)
        #define GROUP_ID ((long)blockIdx.x)
        #define SYNC_THREADS __syncthreads();
        #define ATOMIC_ADD_F(p, v) atomicAdd((p), (v))
        #define ATOMIC_ADD_L(p, v) atomicAdd((unsigned long long*)(p), (unsigned long long)(v))
        #ifdef REAL_IS_DOUBLE
        #define R_EXP exp
        #define R_LOG log
        #define R_SQRT sqrt
        #define R_TANH tanh
        #define R_FLOOR floor
        #define R_FABS fabs
        #define R_POW pow
        #else
        #define R_EXP expf
        #define R_LOG logf
        #define R_SQRT sqrtf
        #define R_TANH tanhf
        #define R_FLOOR floorf
        #define R_FABS fabsf
        #define R_POW powf
        #endif

        """;

    // OpenCL C 1.2 has no float atomics: add by compare-and-swap on the value's bit pattern,
    // retrying while another work-item changed the cell in between (exact, order-dependent).
    // `static inline` because a plain C99 `inline` may leave no out-of-line definition.
    public const string OpenCL = """
        #define KERNEL __kernel
        #define DEVICE_FUNC static inline
        #define GLOBAL __global
        #define LOCAL __local
        #define GLOBAL_ID ((long)get_global_id(0))
        #define LOCAL_ID ((int)get_local_id(0))
        #define LOCAL_SIZE ((int)get_local_size(0))
        #define GROUP_ID ((long)get_group_id(0))
        #define SYNC_THREADS barrier(CLK_LOCAL_MEM_FENCE);
        #ifdef cl_khr_int64_base_atomics
        #pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
        #define ATOMIC_ADD_L(p, v) atom_add((volatile GLOBAL long*)(p), (long)(v))
        #else
        /* Without 64-bit atomics the fixed-point path is never taken (deterministic mode is refused). */
        #define ATOMIC_ADD_L(p, v) ((void)(p), (void)(v))
        #endif
        #ifdef REAL_IS_DOUBLE
        DEVICE_FUNC void atomic_add_real(volatile GLOBAL double* p, double v) {
            union { ulong u; double f; } expected, desired;
            do { expected.f = *p; desired.f = expected.f + v; }
            while (atom_cmpxchg((volatile GLOBAL ulong*)p, expected.u, desired.u) != expected.u);
        }
        #else
        DEVICE_FUNC void atomic_add_real(volatile GLOBAL float* p, float v) {
            union { uint u; float f; } expected, desired;
            do { expected.f = *p; desired.f = expected.f + v; }
            while (atomic_cmpxchg((volatile GLOBAL uint*)p, expected.u, desired.u) != expected.u);
        }
        #endif
        #define ATOMIC_ADD_F(p, v) atomic_add_real((p), (v))
        #define R_EXP exp
        #define R_LOG log
        #define R_SQRT sqrt
        #define R_TANH tanh
        #define R_FLOOR floor
        #define R_FABS fabs
        #define R_POW pow

        """;

    /// <summary>
    /// Precision prelude + backend header + <c>#line</c> so that compiler messages point at
    /// lines of <paramref name="source"/> rather than of the header.
    /// </summary>
    public static string Compose(GpuBackend backend, GpuPrecision precision, string sourceName, string source)
    {
        string prelude = (backend, precision) switch
        {
            (GpuBackend.OpenCL, GpuPrecision.Double) => "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n#define REAL_IS_DOUBLE 1\ntypedef double real;\n",
            (_, GpuPrecision.Double) => "#define REAL_IS_DOUBLE 1\ntypedef double real;\n",
            _ => "typedef float real;\n",
        };
        string header = backend == GpuBackend.Cuda ? Cuda : OpenCL;
        string lineName = sourceName.Replace('\\', '/').Replace('"', '\'');
        return $"{prelude}{header}#line 1 \"{lineName}\"\n{source}";
    }
}

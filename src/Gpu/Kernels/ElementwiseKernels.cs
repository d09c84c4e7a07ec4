namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Element-wise and reduction primitives, in the common subset of CUDA C and OpenCL C 1.2
/// (see <see cref="KernelHeader"/>). Indices are <c>long</c> so tensors past 2^31 elements work.
/// </summary>
public static class ElementwiseKernels
{
    public const string SourceName = "Elementwise.cl";

    /// <summary>Work-items per group that <c>sum_reduce</c> must be launched with (its LOCAL array size).</summary>
    public const int ReduceGroupSize = 256;

    public const string Source = """
        #define REDUCE_GROUP_SIZE 256

        /* y = alpha * x + y */
        KERNEL void axpy(GLOBAL const real* x, GLOBAL real* y, real alpha, long n) {
            long i = GLOBAL_ID;
            if (i < n) y[i] = alpha * x[i] + y[i];
        }

        KERNEL void fill(GLOBAL real* x, real value, long n) {
            long i = GLOBAL_ID;
            if (i < n) x[i] = value;
        }

        /* partial[g] = sum of x over group g's REDUCE_GROUP_SIZE elements; the host repeats it on
           the partials until one value is left. Tree order, so the result is deterministic. */
        KERNEL void sum_reduce(GLOBAL const real* x, GLOBAL real* partial, long n) {
            LOCAL real scratch[REDUCE_GROUP_SIZE];
            long i = GLOBAL_ID;
            int lid = LOCAL_ID;
            /* Out-of-range work-items still take part: every one must reach each barrier. */
            scratch[lid] = i < n ? x[i] : (real)0;
            SYNC_THREADS
            for (int stride = REDUCE_GROUP_SIZE / 2; stride > 0; stride >>= 1) {
                if (lid < stride) scratch[lid] += scratch[lid + stride];
                SYNC_THREADS
            }
            if (lid == 0) partial[GROUP_ID] = scratch[0];
        }

        /* cells[index[i]] += values[i], many work-items racing on few cells. */
        KERNEL void scatter_add(GLOBAL const real* values, GLOBAL const int* index, GLOBAL real* cells, long n) {
            long i = GLOBAL_ID;
            if (i < n) ATOMIC_ADD_F(&cells[index[i]], values[i]);
        }
        """;
}

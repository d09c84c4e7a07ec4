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

        KERNEL void fill_at(GLOBAL real* x, long offset, real value, long n) {
            long i = GLOBAL_ID;
            if (i < n) x[offset + i] = value;
        }

        KERNEL void copy(GLOBAL const real* x, GLOBAL real* y, long n) {
            long i = GLOBAL_ID;
            if (i < n) y[i] = x[i];
        }

        KERNEL void fill_from_first(GLOBAL const real* scalar, GLOBAL real* y, long n) {
            long i = GLOBAL_ID;
            if (i < n) y[i] = scalar[0];
        }

        /* op: DeformEngine.DeviceUnaryOp. Relu keeps NaN, as the CPU's max(x, 0) does. */
        KERNEL void unary_op(GLOBAL const real* x, GLOBAL real* y, int op, long n) {
            long i = GLOBAL_ID;
            if (i >= n) return;
            real v = x[i];
            real r;
            switch (op) {
                case 0: r = -v; break;
                case 1: r = R_EXP(v); break;
                case 2: r = R_LOG(v); break;
                case 3: r = R_SQRT(v); break;
                case 4: r = (v > (real)0 || v != v) ? v : (real)0; break;
                case 5: r = (real)1 / ((real)1 + R_EXP(-v)); break;
                case 6: r = R_TANH(v); break;
                case 7: r = R_FABS(v); break;
                default: r = (real)1 / v; break;
            }
            y[i] = r;
        }

        /* op: DeformEngine.DeviceBinaryOp; y may alias a. */
        KERNEL void binary_op(GLOBAL const real* a, GLOBAL const real* b, GLOBAL real* y, int op, long n) {
            long i = GLOBAL_ID;
            if (i >= n) return;
            real u = a[i], v = b[i];
            real r;
            switch (op) {
                case 0: r = u + v; break;
                case 1: r = u - v; break;
                case 2: r = u * v; break;
                case 3: r = u / v; break;
                /* NOTE: subgradient 0 at 0 for relu and abs, as on the CPU. */
                case 4: r = v > (real)0 ? u : (real)0; break;
                default: r = v > (real)0 ? u : v < (real)0 ? -u : (real)0; break;
            }
            y[i] = r;
        }

        /* op: DeformEngine.DeviceScalarOp (0 add, 1 multiply, 2 power). */
        KERNEL void scalar_op(GLOBAL const real* x, GLOBAL real* y, real value, int op, long n) {
            long i = GLOBAL_ID;
            if (i < n) y[i] = op == 0 ? x[i] + value : op == 1 ? x[i] * value : R_POW(x[i], value);
        }

        /* partial[g] = max |x| over group g; NaN wins, so a NaN anywhere reaches the host. */
        KERNEL void max_abs_reduce(GLOBAL const real* x, GLOBAL real* partial, long n) {
            LOCAL real scratch[REDUCE_GROUP_SIZE];
            long i = GLOBAL_ID;
            int lid = LOCAL_ID;
            scratch[lid] = i < n ? R_FABS(x[i]) : (real)0;
            SYNC_THREADS
            for (int stride = REDUCE_GROUP_SIZE / 2; stride > 0; stride >>= 1) {
                if (lid < stride) {
                    real other = scratch[lid + stride];
                    if (other > scratch[lid] || other != other) scratch[lid] = other;
                }
                SYNC_THREADS
            }
            if (lid == 0) partial[GROUP_ID] = scratch[0];
        }

        /* The end of a deterministic scatter: y[offset + i] = fixed[i] / scale, scale a power of two. */
        KERNEL void fixed_to_real(GLOBAL const long* fixed, GLOBAL real* y, long offset, real inverse_scale, long n) {
            long i = GLOBAL_ID;
            if (i < n) y[offset + i] = (real)fixed[i] * inverse_scale;
        }
        """;
}

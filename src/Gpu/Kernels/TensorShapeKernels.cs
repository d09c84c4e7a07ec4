namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Strided kernels behind Core's <c>Ops/Tensor.Shape.cs</c>, broadcasting in <c>Ops/Tensor.Binary.cs</c>
/// and the reductions of <c>Ops/Tensor.Reduce.cs</c> (see <c>Device.Tensors.cs</c>). Shapes and
/// strides arrive in a small int buffer, <c>geometry</c>, one array after the other.
/// </summary>
public static class TensorShapeKernels
{
    public const string SourceName = "TensorShape.cl";

    public const string Source = """
        /* geometry: shape[rank], source strides[rank], destination strides[rank]. */
        KERNEL void strided_copy(GLOBAL const real* x, long x_offset, GLOBAL real* y, long y_offset,
                                 GLOBAL const int* geometry, int rank, long n) {
            long i = GLOBAL_ID;
            if (i >= n) return;
            long rest = i, xi = x_offset, yi = y_offset;
            for (int d = rank - 1; d >= 0; d--) {
                long index = rest % geometry[d];
                rest /= geometry[d];
                xi += index * geometry[rank + d];
                yi += index * geometry[2 * rank + d];
            }
            y[yi] = x[xi];
        }

        /* y (row-major over shape) = a op b; geometry: shape[rank], a strides[rank], b strides[rank];
           op: DeformEngine.DeviceBinaryOp 0 … 3 (add, subtract, multiply, divide). */
        KERNEL void strided_binary(GLOBAL const real* a, GLOBAL const real* b, GLOBAL real* y,
                                   GLOBAL const int* geometry, int rank, int op, long n) {
            long i = GLOBAL_ID;
            if (i >= n) return;
            long rest = i, ai = 0, bi = 0;
            for (int d = rank - 1; d >= 0; d--) {
                long index = rest % geometry[d];
                rest /= geometry[d];
                ai += index * geometry[rank + d];
                bi += index * geometry[2 * rank + d];
            }
            real u = a[ai], v = b[bi];
            y[i] = op == 0 ? u + v : op == 1 ? u - v : op == 2 ? u * v : u / v;
        }

        /* y[i] (row-major over the kept shape) = Σ_j x[kept offset of i + reduced offset of j], j in
           row-major order, as the CPU adds. geometry: kept shape[kept_rank], kept strides[kept_rank],
           reduced shape[reduced_rank], reduced strides[reduced_rank]. */
        KERNEL void strided_sum(GLOBAL const real* x, GLOBAL real* y, GLOBAL const int* geometry,
                                int kept_rank, int reduced_rank, long reduced_count, long n) {
            long i = GLOBAL_ID;
            if (i >= n) return;
            long rest = i, base = 0;
            for (int d = kept_rank - 1; d >= 0; d--) {
                base += (rest % geometry[d]) * geometry[kept_rank + d];
                rest /= geometry[d];
            }
            GLOBAL const int* reduced_shape = geometry + 2 * kept_rank;
            GLOBAL const int* reduced_strides = reduced_shape + reduced_rank;
            real sum = (real)0;
            for (long j = 0; j < reduced_count; j++) {
                long r = j, offset = base;
                for (int e = reduced_rank - 1; e >= 0; e--) {
                    offset += (r % reduced_shape[e]) * reduced_strides[e];
                    r /= reduced_shape[e];
                }
                sum += x[offset];
            }
            y[i] = sum;
        }
        """;
}

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernel of Core's <c>Ops/Tensor.Softmax.cs</c>: one work-item per row (o, i) of x viewed as
/// [outer, size, inner], the CPU's steps in the CPU's order: the maximum, Σ exp(x − max), its log,
/// then x − max − log Σ (exponentiated for softmax).
/// </summary>
public static class SoftmaxKernels
{
    public const string SourceName = "Softmax.cl";

    public const string Source = """
        KERNEL void softmax_rows(GLOBAL const real* x, GLOBAL real* y, long outer, int size, long inner, int log_output) {
            long index = GLOBAL_ID;
            if (index >= outer * inner || size == 0) return;
            long base = (index / inner) * size * inner + index % inner;
            /* NaN wins, as in the CPU's T.Max. */
            real max = x[base];
            for (int s = 1; s < size; s++) {
                real v = x[base + s * inner];
                if (v > max || v != v) max = (max != max) ? max : v;
            }
            real sum = (real)0;
            for (int s = 0; s < size; s++) sum += R_EXP(x[base + s * inner] - max);
            real log_sum = R_LOG(sum);
            for (int s = 0; s < size; s++) {
                real shifted = x[base + s * inner] - max - log_sum;
                y[base + s * inner] = log_output ? shifted : R_EXP(shifted);
            }
        }
        """;
}

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/BatchNorm2d.cs</c> over [batch, channels, plane]: per-channel statistics and
/// gradient sums by one work-group per channel (fixed strided subsets, then a tree: deterministic),
/// the variance by a second pass over (x − μ) as on the CPU; the normalisation, the running-statistics
/// update and the input gradient elementwise.
/// </summary>
public static class BatchNorm2dGpuKernels
{
    public const string SourceName = "BatchNorm2d.cl";

    /// <summary>Work-items per group that the per-channel reductions must be launched with.</summary>
    public const int GroupSize = 256;

    public const string Source = """
        #define BN_GROUP_SIZE 256

        /* The tree sum of scratch[0 .. BN_GROUP_SIZE), left in scratch[0]; every work-item must reach it.
           A macro: a pointer to local memory cannot be a function parameter in both languages. */
        #define GROUP_SUM(scratch, lid) \
            SYNC_THREADS \
            for (int stride = BN_GROUP_SIZE / 2; stride > 0; stride >>= 1) { \
                if ((lid) < stride) scratch[lid] += scratch[(lid) + stride]; \
                SYNC_THREADS \
            }

        /* One work-group per channel: the batch mean and the biased variance. */
        KERNEL void batch_norm_statistics(GLOBAL const real* x, GLOBAL real* mean, GLOBAL real* variance,
                                          int batch, int channels, long plane) {
            LOCAL real scratch[BN_GROUP_SIZE];
            int lid = LOCAL_ID;
            long c = GROUP_ID;
            long total = (long)batch * plane;
            real sum = (real)0;
            for (long e = lid; e < total; e += BN_GROUP_SIZE) sum += x[((e / plane) * channels + c) * plane + e % plane];
            scratch[lid] = sum;
            GROUP_SUM(scratch, lid)
            real mu = scratch[0] / (real)total;
            SYNC_THREADS
            real squares = (real)0;
            for (long e = lid; e < total; e += BN_GROUP_SIZE) {
                real centered = x[((e / plane) * channels + c) * plane + e % plane] - mu;
                squares += centered * centered;
            }
            scratch[lid] = squares;
            GROUP_SUM(scratch, lid)
            if (lid == 0) {
                mean[c] = mu;
                variance[c] = scratch[0] / (real)total;
            }
        }

        /* normalized = (x − μ)/√(σ² + ε), y = γ·normalized + β (γ = 1, β = 0 when absent). */
        KERNEL void batch_norm_forward(GLOBAL const real* x, GLOBAL const real* mean, GLOBAL const real* variance,
                                       GLOBAL const real* weight, int has_weight, GLOBAL const real* bias, int has_bias, real eps,
                                       GLOBAL real* normalized, GLOBAL real* y, int channels, long plane, long n) {
            long i = GLOBAL_ID;
            if (i >= n) return;
            long c = (i / plane) % channels;
            real inv_std = (real)1 / R_SQRT(variance[c] + eps);
            real value = (x[i] - mean[c]) * inv_std;
            normalized[i] = value;
            y[i] = (has_weight ? weight[c] : (real)1) * value + (has_bias ? bias[c] : (real)0);
        }

        /* running = (1 − m)·running + m·batch, the variance entering unbiased. */
        KERNEL void batch_norm_update_running(GLOBAL real* running_mean, GLOBAL real* running_var,
                                              GLOBAL const real* mean, GLOBAL const real* variance,
                                              real momentum, real unbias, int channels) {
            long c = GLOBAL_ID;
            if (c >= channels) return;
            real keep = (real)1 - momentum;
            running_mean[c] = keep * running_mean[c] + momentum * mean[c];
            running_var[c] = keep * running_var[c] + momentum * variance[c] * unbias;
        }

        /* One work-group per channel: sum_grad[c] = Σ ∂L/∂y, sum_weighted[c] = Σ ∂L/∂y · normalized
           (the bias and weight gradients). */
        KERNEL void batch_norm_grad_sums(GLOBAL const real* grad, GLOBAL const real* normalized, GLOBAL real* sum_grad,
                                         GLOBAL real* sum_weighted, int batch, int channels, long plane) {
            LOCAL real scratch[BN_GROUP_SIZE];
            int lid = LOCAL_ID;
            long c = GROUP_ID;
            long total = (long)batch * plane;
            real sum = (real)0, weighted = (real)0;
            for (long e = lid; e < total; e += BN_GROUP_SIZE) {
                long k = ((e / plane) * channels + c) * plane + e % plane;
                sum += grad[k];
                weighted += grad[k] * normalized[k];
            }
            scratch[lid] = sum;
            GROUP_SUM(scratch, lid)
            if (lid == 0) sum_grad[c] = scratch[0];
            SYNC_THREADS
            scratch[lid] = weighted;
            GROUP_SUM(scratch, lid)
            if (lid == 0) sum_weighted[c] = scratch[0];
        }

        /* training: γ/√(σ²+ε)·(g − Σg/M − normalized·Σ(g·normalized)/M); evaluation: γ/√(σ²+ε)·g. */
        KERNEL void batch_norm_backward(GLOBAL const real* grad, GLOBAL const real* normalized, GLOBAL const real* variance,
                                        GLOBAL const real* weight, int has_weight, real eps,
                                        GLOBAL const real* sum_grad, GLOBAL const real* sum_weighted,
                                        int training, real count, GLOBAL real* grad_input, int channels, long plane, long n) {
            long i = GLOBAL_ID;
            if (i >= n) return;
            long c = (i / plane) % channels;
            real scale = (has_weight ? weight[c] : (real)1) * ((real)1 / R_SQRT(variance[c] + eps));
            if (training) {
                real mean_grad = sum_grad[c] / count, mean_grad_normalized = sum_weighted[c] / count;
                grad_input[i] = scale * (grad[i] - mean_grad - normalized[i] * mean_grad_normalized);
            } else {
                grad_input[i] = scale * grad[i];
            }
        }
        """;
}

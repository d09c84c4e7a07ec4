namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/CrossEntropy.cs</c>: one work-item per row for the log-sum-exp (the CPU's steps
/// in its order), one per logit for the gradient softmax − onehot scaled by the upstream gradient.
/// </summary>
public static class CrossEntropyGpuKernels
{
    public const string SourceName = "CrossEntropy.cl";

    public const string Source = """
        KERNEL void cross_entropy_rows(GLOBAL const real* logits, GLOBAL const int* targets, GLOBAL real* probabilities,
                                       GLOBAL real* losses, int rows, int classes) {
            long row = GLOBAL_ID;
            if (row >= rows) return;
            GLOBAL const real* scores = logits + row * classes;
            /* NaN wins, as in the CPU's T.Max. */
            real max = scores[0];
            for (int k = 1; k < classes; k++)
                if (scores[k] > max || scores[k] != scores[k]) max = (max != max) ? max : scores[k];
            real sum = (real)0;
            for (int k = 0; k < classes; k++) sum += R_EXP(scores[k] - max);
            real log_sum = max + R_LOG(sum);
            for (int k = 0; k < classes; k++) probabilities[row * classes + k] = R_EXP(scores[k] - log_sum);
            losses[row] = log_sum - scores[targets[row]];
        }

        /* reduction: DeformEngine.Reduction (0 none: upstream per row, 1 mean: upstream[0]/rows, 2 sum: upstream[0]). */
        KERNEL void cross_entropy_backward(GLOBAL const real* probabilities, GLOBAL const int* targets, GLOBAL const real* upstream,
                                           int reduction, GLOBAL real* grad_logits, int rows, int classes) {
            long i = GLOBAL_ID;
            if (i >= (long)rows * classes) return;
            long row = i / classes;
            real value = probabilities[i] - (i % classes == targets[row] ? (real)1 : (real)0);
            real factor = reduction == 0 ? upstream[row] : reduction == 2 ? upstream[0] : upstream[0] / (real)rows;
            grad_logits[i] = value * factor;
        }
        """;
}

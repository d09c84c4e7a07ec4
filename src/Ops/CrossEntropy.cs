namespace DeformEngine;

/// <summary>Cross-entropy of logits [N, C] against class indices: ℓ_n = −log softmax(z_n)[t_n]
/// = logsumexp(z_n) − z_n[t_n], reduced by <see cref="Reduction"/> (mean over N by default).
/// Gradient: ∂ℓ_n/∂z_n = softmax(z_n) − onehot(t_n), times the upstream gradient (÷ N for the mean).</summary>
public static partial class Functional
{
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, int[] targets, Reduction reduction = Reduction.Mean)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        OpArgs.RequireReduction(reduction);
        ShapeMath.RequireRank(nameof(logits), logits.ShapeSpan, 2, "[N, C] of unnormalised scores");
        int n = logits.ShapeArray[0], classes = logits.ShapeArray[1];
        if (targets.Length != n)
            throw new ArgumentException($"targets: expected {n} class indices (one per row of logits {ShapeMath.Format(logits.ShapeSpan)}), got {targets.Length}.", nameof(targets));
        for (int i = 0; i < n; i++)
            if ((uint)targets[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(targets), targets[i], $"targets[{i}]: expected a class index in [0, {classes - 1}], got {targets[i]}.");
        if (reduction == Reduction.Mean && n == 0)
            throw new ArgumentException("logits: the mean cross-entropy of an empty batch is undefined.", nameof(logits));
        if (!logits.Device.IsCpu) return CrossEntropyOnDevice(logits, targets, reduction);

        var z = logits.CpuData;
        var probabilities = new T[z.Length];
        var losses = new T[n];
        for (int row = 0; row < n; row++)
        {
            var scores = z.AsSpan(row * classes, classes);
            T max = T.NegativeInfinity;
            foreach (T s in scores) max = T.Max(max, s);
            T sum = T.Zero;
            for (int k = 0; k < classes; k++) sum += T.Exp(scores[k] - max);
            T logSum = max + T.Log(sum);
            for (int k = 0; k < classes; k++) probabilities[row * classes + k] = T.Exp(scores[k] - logSum);
            losses[row] = logSum - scores[targets[row]];
        }
        var labels = (int[])targets.Clone();
        var output = ReduceRows(losses, reduction);
        return Autograd.Record(output, "CrossEntropy", (grad, _) =>
        {
            var gradLogits = (T[])probabilities.Clone();
            for (int row = 0; row < n; row++) gradLogits[row * classes + labels[row]] -= T.One;
            ScaleRowsByUpstream(gradLogits, classes, grad.CpuData, reduction, n);
            return [Tensor<T>.Wrap(gradLogits, n, classes)];
        }, logits);
    }

    /// <summary>Per-row values reduced as asked: shape [N] for none, a scalar otherwise.</summary>
    private static Tensor<T> ReduceRows<T>(T[] values, Reduction reduction)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (reduction == Reduction.None) return Tensor<T>.Wrap(values, values.Length);
        T sum = T.Zero;
        foreach (T v in values) sum += v;
        return Tensor<T>.Scalar(reduction == Reduction.Mean ? sum / T.CreateChecked(values.Length) : sum);
    }

    /// <summary>Multiplies each row of a per-row gradient [N, width] by the upstream gradient of
    /// its reduced value: g_n for none, g for sum, g/N for mean.</summary>
    private static void ScaleRowsByUpstream<T>(T[] rows, int width, T[] upstream, Reduction reduction, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int row = 0; row < n; row++)
        {
            T factor = reduction switch
            {
                Reduction.None => upstream[row],
                Reduction.Sum => upstream[0],
                _ => upstream[0] / T.CreateChecked(n),
            };
            for (int k = 0; k < width; k++) rows[row * width + k] *= factor;
        }
    }
}

namespace DeformEngine;

/// <summary>Cross-entropy of logits [N, C] against class indices: ℓ_n = −log softmax(z_n)[t_n]
/// = logsumexp(z_n) − z_n[t_n], reduced by <see cref="Reduction"/> (mean over N by default).
/// Gradient: ∂ℓ_n/∂z_n = softmax(z_n) − onehot(t_n), times the upstream gradient (÷ N for the mean).</summary>
public static partial class Functional
{
    /// <summary>ℓ_n = logsumexp(z_n) − z_n[t_n] per row, reduced.</summary>
    /// <param name="logits">[N, C] unnormalised scores z.</param>
    /// <param name="targets">N class indices t_n in [0, C); copied, never differentiated.</param>
    /// <param name="reduction">Mean or sum over rows, or None for the [N] losses.</param>
    /// <returns>A scalar, or [N] for <see cref="Reduction.None"/>.</returns>
    /// <exception cref="ArgumentException">Logits not [N, C], a target count other than N, or the mean of an empty
    /// batch.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target outside [0, C), or an unknown reduction.</exception>
    /// <exception cref="NotSupportedException">The device does not implement the operator.</exception>
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
        var parameters = new CrossEntropyParams(n, classes, reduction);
        var backend = OperatorBackends.For<ICrossEntropyBackend>(logits.Device, "CrossEntropy");
        var (output, saved) = backend.CrossEntropy(parameters, logits, (int[])targets.Clone());
        return Autograd.Record(output, "CrossEntropy", (grad, _) => [backend.CrossEntropyBackward(parameters, grad, saved)], logits);
    }
}

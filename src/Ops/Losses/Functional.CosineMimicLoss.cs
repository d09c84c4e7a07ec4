namespace DeformEngine;

/// <summary>The feature-mimicking loss of DCNv2: rows a_n, b_n of [N, ...] (everything after the
/// first dimension flattened), ℓ_n = 1 − cos(a_n, b_n) = 1 − a·b / (max(‖a‖, ε)·max(‖b‖, ε)),
/// reduced by <see cref="Reduction"/> (mean over rows by default).
/// Gradients: ∂ℓ/∂a = −(b/(‖a‖‖b‖) − cos·a/‖a‖²), ∂ℓ/∂b likewise with a and b swapped.</summary>
public static partial class Functional
{
    /// <summary>ℓ_n = 1 − a_n·b_n / (max(‖a_n‖, ε)·max(‖b_n‖, ε)) per row, reduced.</summary>
    /// <param name="a">[N, ...]: N feature rows (the trailing dimensions flattened).</param>
    /// <param name="b">The same shape as <paramref name="a"/>.</param>
    /// <param name="reduction">Mean or sum over rows, or None for the [N] losses.</param>
    /// <param name="eps">ε, the smallest norm used in the denominator (positive).</param>
    /// <returns>A scalar, or [N] for <see cref="Reduction.None"/>.</returns>
    /// <exception cref="ArgumentException">A rank below 2, different shapes, the mean of zero rows, or tensors on
    /// different devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An unknown reduction or a non-positive
    /// <paramref name="eps"/>.</exception>
    /// <exception cref="NotSupportedException">The device does not implement the operator.</exception>
    public static Tensor<T> CosineMimicLoss<T>(Tensor<T> a, Tensor<T> b, Reduction reduction = Reduction.Mean, double eps = 1e-8)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        OpArgs.RequireReduction(reduction);
        if (a.Rank < 2)
            throw new ArgumentException($"a: expected a tensor [N, ...] of N feature rows, got shape {ShapeMath.Format(a.ShapeSpan)}.", nameof(a));
        ShapeMath.RequireShape(nameof(b), b.ShapeSpan, a.ShapeSpan);
        if (!(eps > 0))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps: expected a positive value.");
        int n = a.ShapeArray[0];
        if (reduction == Reduction.Mean && n == 0)
            throw new ArgumentException("a: the mean loss of zero rows is undefined.", nameof(a));
        RequireSameDevice(nameof(b), a, b);
        var parameters = new CosineMimicLossParams(n, n == 0 ? 0 : a.Numel / n, reduction, eps);
        var backend = OperatorBackends.For<ICosineMimicLossBackend>(a.Device, "CosineMimicLoss");
        var (output, saved) = backend.CosineMimicLoss(parameters, a, b);
        return Autograd.Record(output, "CosineMimicLoss", (grad, needs) => backend.CosineMimicLossBackward(parameters, grad, a, b, saved, needs),
            a, b);
    }
}

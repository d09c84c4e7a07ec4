namespace DeformEngine;

/// <summary>The feature-mimicking loss of DCNv2: rows a_n, b_n of [N, ...] (everything after the
/// first dimension flattened), ℓ_n = 1 − cos(a_n, b_n) = 1 − a·b / (max(‖a‖, ε)·max(‖b‖, ε)),
/// reduced by <see cref="Reduction"/> (mean over rows by default).
/// Gradients: ∂ℓ/∂a = −(b/(‖a‖‖b‖) − cos·a/‖a‖²), ∂ℓ/∂b likewise with a and b swapped.</summary>
public static partial class Functional
{
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
        int width = n == 0 ? 0 : a.Numel / n;
        var x = a.CpuData;
        var y = b.CpuData;
        T epsilon = T.CreateChecked(eps);
        var normA = new T[n];
        var normB = new T[n];
        var cosine = new T[n];
        var losses = new T[n];
        for (int row = 0; row < n; row++)
        {
            T dot = T.Zero, sa = T.Zero, sb = T.Zero;
            for (int k = row * width; k < (row + 1) * width; k++)
            {
                dot += x[k] * y[k];
                sa += x[k] * x[k];
                sb += y[k] * y[k];
            }
            normA[row] = T.Max(T.Sqrt(sa), epsilon);
            normB[row] = T.Max(T.Sqrt(sb), epsilon);
            cosine[row] = dot / (normA[row] * normB[row]);
            losses[row] = T.One - cosine[row];
        }
        var output = ReduceRows(losses, reduction);
        return Autograd.Record(output, "CosineMimicLoss", (grad, needs) =>
        {
            var gradA = needs[0] ? new T[x.Length] : null;
            var gradB = needs[1] ? new T[y.Length] : null;
            for (int row = 0; row < n; row++)
            {
                // NOTE: a norm clamped at ε is a constant, so the cos·a/‖a‖² term drops out there.
                T product = normA[row] * normB[row];
                T selfA = normA[row] > epsilon ? cosine[row] / (normA[row] * normA[row]) : T.Zero;
                T selfB = normB[row] > epsilon ? cosine[row] / (normB[row] * normB[row]) : T.Zero;
                for (int k = row * width; k < (row + 1) * width; k++)
                {
                    if (gradA is not null) gradA[k] = selfA * x[k] - y[k] / product;
                    if (gradB is not null) gradB[k] = selfB * y[k] - x[k] / product;
                }
            }
            if (gradA is not null) ScaleRowsByUpstream(gradA, width, grad.CpuData, reduction, n);
            if (gradB is not null) ScaleRowsByUpstream(gradB, width, grad.CpuData, reduction, n);
            return [
                gradA is null ? null : Tensor<T>.Wrap(gradA, a.ShapeArray),
                gradB is null ? null : Tensor<T>.Wrap(gradB, b.ShapeArray)];
        }, a, b);
    }
}

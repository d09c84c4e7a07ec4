namespace DeformEngine;

/// <summary>The reference <see cref="ICosineMimicLossBackend"/>: per row the dot product and both norms;
/// the clamped norms and cosines are saved for the backward.</summary>
public partial class CpuReferenceBackend : ICosineMimicLossBackend
{
    /// <inheritdoc />
    public virtual OperatorOutput<T> CosineMimicLoss<T>(CosineMimicLossParams parameters, Tensor<T> a, Tensor<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = parameters.Rows, width = parameters.Width;
        double eps = parameters.Eps;
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
        return new(LossRows.Reduce(losses, parameters.Reduction), (normA, normB, cosine));
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] CosineMimicLossBackward<T>(CosineMimicLossParams parameters, Tensor<T> gradOutput, Tensor<T> a,
        Tensor<T> b, object? saved, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = parameters.Rows, width = parameters.Width;
        var reduction = parameters.Reduction;
        T epsilon = T.CreateChecked(parameters.Eps);
        var x = a.CpuData;
        var y = b.CpuData;
        var (normA, normB, cosine) = ((T[], T[], T[]))saved!;
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
        if (gradA is not null) LossRows.ScaleByUpstream(gradA, width, gradOutput.CpuData, reduction, n);
        if (gradB is not null) LossRows.ScaleByUpstream(gradB, width, gradOutput.CpuData, reduction, n);
        return [
            gradA is null ? null : Tensor<T>.Wrap(gradA, a.ShapeArray),
            gradB is null ? null : Tensor<T>.Wrap(gradB, b.ShapeArray)];
    }
}

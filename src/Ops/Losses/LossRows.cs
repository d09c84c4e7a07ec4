namespace DeformEngine;

/// <summary>Reductions of per-row loss values and their adjoint, shared by the CPU loss kernels.</summary>
internal static class LossRows
{
    /// <summary>Per-row values reduced as asked: shape [N] for none, a scalar otherwise.</summary>
    public static Tensor<T> Reduce<T>(T[] values, Reduction reduction)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (reduction == Reduction.None) return Tensor<T>.Wrap(values, values.Length);
        T sum = T.Zero;
        foreach (T v in values) sum += v;
        return Tensor<T>.Scalar(reduction == Reduction.Mean ? sum / T.CreateChecked(values.Length) : sum);
    }

    /// <summary>Multiplies each row of a per-row gradient [N, width] by the upstream gradient of
    /// its reduced value: g_n for none, g for sum, g/N for mean.</summary>
    public static void ScaleByUpstream<T>(T[] rows, int width, T[] upstream, Reduction reduction, int n)
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

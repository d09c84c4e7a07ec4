namespace DeformEngine;

/// <summary>Argument checks shared by the NN functional operators (pooling windows, probabilities,
/// optional per-channel vectors).</summary>
internal static class OpArgs
{
    public static void RequirePositive(string argumentName, (int H, int W) value)
    {
        if (value.H < 1 || value.W < 1)
            throw new ArgumentOutOfRangeException(argumentName, value, $"{argumentName}: expected both entries ≥ 1, got ({value.H}, {value.W}).");
    }

    public static void RequireNonNegative(string argumentName, (int H, int W) value)
    {
        if (value.H < 0 || value.W < 0)
            throw new ArgumentOutOfRangeException(argumentName, value, $"{argumentName}: expected both entries ≥ 0, got ({value.H}, {value.W}).");
    }

    /// <summary>A per-channel vector such as a BatchNorm weight: null, or shape [channels].</summary>
    public static void RequireChannelVector<T>(string argumentName, Tensor<T>? vector, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (vector is not null) ShapeMath.RequireShape(argumentName, vector.ShapeSpan, [channels]);
    }

    /// <summary>Output length of a sliding window: ⌊(size + 2·pad − kernel) / stride⌋ + 1.</summary>
    public static int WindowCount(string argumentName, int size, int kernel, int stride, int pad)
    {
        int span = size + 2 * pad - kernel;
        if (span < 0)
            throw new ArgumentException(
                $"{argumentName}: kernel {kernel} does not fit an input of size {size} with padding {pad}.", argumentName);
        return span / stride + 1;
    }
}

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

    /// <summary>A pooling window: kernel and stride ≥ 1, padding ≥ 0 and at most half the kernel (as
    /// PyTorch: a window made mostly of padding would have no input element to pool).</summary>
    public static void RequirePoolWindow((int H, int W) kernelSize, (int H, int W) stride, (int H, int W) padding)
    {
        RequirePositive(nameof(kernelSize), kernelSize);
        RequirePositive(nameof(stride), stride);
        RequireNonNegative(nameof(padding), padding);
        if (2L * padding.H > kernelSize.H || 2L * padding.W > kernelSize.W)
            throw new ArgumentOutOfRangeException(nameof(padding), padding,
                $"padding: expected at most half the kernel ({kernelSize.H / 2}, {kernelSize.W / 2}), got ({padding.H}, {padding.W}).");
    }

    /// <summary>BatchNorm's eps (finite, ≥ 0) and momentum (in [0, 1]).</summary>
    public static void RequireBatchNormConstants(double eps, double momentum)
    {
        if (!(momentum >= 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"momentum: expected a value in [0, 1], got {momentum}.");
        if (!(eps >= 0 && double.IsFinite(eps)))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, $"eps: expected a finite value ≥ 0, got {eps}.");
    }

    /// <summary>One of the defined <see cref="Reduction"/> values (a cast int can be any other).</summary>
    public static void RequireReduction(Reduction reduction)
    {
        if (reduction is not (Reduction.None or Reduction.Mean or Reduction.Sum))
            throw new ArgumentOutOfRangeException(nameof(reduction), reduction,
                $"reduction: expected Reduction.None, Mean or Sum, got {(int)reduction}.");
    }

    /// <summary>A per-channel vector such as a BatchNorm weight: null, or shape [channels].</summary>
    public static void RequireChannelVector<T>(string argumentName, Tensor<T>? vector, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (vector is not null) ShapeMath.RequireShape(argumentName, vector.ShapeSpan, [channels]);
    }

    /// <summary>Output length of a sliding window: ⌊(size + 2·pad − kernel) / stride⌋ + 1, in 64 bits so
    /// that no size, kernel or padding an int can hold overflows on the way.</summary>
    public static int WindowCount(string argumentName, int size, int kernel, int stride, int pad)
    {
        long span = size + 2L * pad - kernel;
        if (span < 0)
            throw new ArgumentException(
                $"{argumentName}: kernel {kernel} does not fit an input of size {size} with padding {pad}.", argumentName);
        long count = span / stride + 1;
        if (count > Array.MaxLength)
            throw new ArgumentException(
                $"{argumentName}: an input of size {size} with padding {pad}, kernel {kernel} and stride {stride} gives {count} windows per axis, more than an array can hold.", argumentName);
        return (int)count;
    }

    /// <summary>The element count of a result of shape <paramref name="dims"/>, or an
    /// <see cref="ArgumentException"/> naming <paramref name="argumentName"/> when it does not fit an array.</summary>
    public static int ElementCount(string argumentName, string what, params long[] dims)
    {
        long count = 1;
        foreach (long d in dims)
        {
            // Tested by division so that the product itself cannot overflow.
            if (d != 0 && count > Array.MaxLength / d)
                throw new ArgumentException(
                    $"{argumentName}: {what} [{string.Join(", ", dims)}] has more elements than an array can hold ({Array.MaxLength}).", argumentName);
            count *= d;
        }
        return (int)count;
    }
}

namespace DeformEngine;

/// <summary>Argument checks shared by the sampling operators (grid sample, multi-scale deformable attention).</summary>
internal static class SamplingChecks
{
    /// <summary>Every dimension at least 1: an empty batch, channel or plane is refused rather than
    /// silently producing an empty result.</summary>
    public static void RequirePositiveSizes(string argumentName, ReadOnlySpan<int> shape, string layout)
    {
        foreach (int size in shape)
            if (size < 1)
                throw new ArgumentException(
                    $"{argumentName}: expected every dimension of {layout} to be at least 1, got {ShapeMath.Format(shape)}.", argumentName);
    }
}

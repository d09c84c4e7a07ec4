namespace DeformEngine;

/// <summary>Mean pooling of [N, C, H, W] to a fixed [outH, outW]: output row oy averages input rows
/// ⌊oy·H/outH⌋ .. ⌈(oy+1)·H/outH⌉ − 1 (columns likewise), PyTorch's bins, which may overlap.
/// Gradient: each input position of a bin gets ∂L/∂out / (bin size).</summary>
public static partial class Functional
{
    /// <summary>out[n, c, oy, ox] = mean of input[n, c] over rows ⌊oy·H/outH⌋ .. ⌈(oy + 1)·H/outH⌉ − 1 (columns
    /// likewise).</summary>
    /// <param name="input">[N, C, H, W] with H, W ≥ 1.</param>
    /// <param name="outputSize">(outH, outW), positive.</param>
    /// <returns>[N, C, outH, outW].</returns>
    /// <exception cref="ArgumentException">The input is not 4-D, has an empty plane, or the output is too
    /// large.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive output size.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> AdaptiveAvgPool2d<T>(Tensor<T> input, (int H, int W) outputSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        OpArgs.RequirePositive(nameof(outputSize), outputSize);
        var shape = input.ShapeArray;
        int h = shape[2], w = shape[3];
        if (h == 0 || w == 0)
            throw new ArgumentException($"input: expected non-empty spatial dimensions, got shape {ShapeMath.Format(shape)}.", nameof(input));
        var (outH, outW) = outputSize;
        OpArgs.ElementCount(nameof(outputSize), "the pooled output", shape[0], shape[1], outH, outW);
        var windows = new PoolWindow[outH * outW];
        for (int oy = 0; oy < outH; oy++)
            for (int ox = 0; ox < outW; ox++)
            {
                // In 64 bits: oy·H passes 2^31 for outputs and inputs of a few thousand rows each.
                int yStart = (int)((long)oy * h / outH), yEnd = (int)(((oy + 1L) * h + outH - 1) / outH);
                int xStart = (int)((long)ox * w / outW), xEnd = (int)(((ox + 1L) * w + outW - 1) / outW);
                windows[oy * outW + ox] = new PoolWindow(yStart, yEnd, xStart, xEnd, yEnd - yStart, xEnd - xStart);
            }
        return AveragePooling.Run(input, windows, outH, outW, "AdaptiveAvgPool2d");
    }
}

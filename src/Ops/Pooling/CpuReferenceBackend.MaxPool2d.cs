namespace DeformEngine;

/// <summary>The reference <see cref="IMaxPool2dBackend"/>: a loop over windows that keeps each argmax
/// (an int[] per call) for the backward.</summary>
public partial class CpuReferenceBackend : IMaxPool2dBackend
{
    /// <inheritdoc />
    public virtual OperatorOutput<T> MaxPool2d<T>(Pool2dParams parameters, Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w) = (parameters.Batch, parameters.Channels, parameters.Height, parameters.Width);
        var (outH, outW) = (parameters.OutH, parameters.OutW);
        var src = input.CpuData;
        var result = new T[n * c * outH * outW];
        // NOTE: the argmax of each window is kept so that the backward routes the gradient exactly
        // where the forward took its value; −1 marks a window with no finite maximum.
        var argmax = new int[result.Length];
        for (int plane = 0; plane < n * c; plane++)
        {
            int inBase = plane * h * w, outBase = plane * outH * outW;
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    T best = T.NegativeInfinity;
                    int bestIndex = -1;
                    // The window clipped to the input, as PyTorch: a huge kernel costs the input's size, not its own.
                    var (yStart, yEnd) = Clip((long)oy * parameters.StrideH - parameters.PadH, parameters.KernelH, h);
                    var (xStart, xEnd) = Clip((long)ox * parameters.StrideW - parameters.PadW, parameters.KernelW, w);
                    for (int y = yStart; y < yEnd; y++)
                        for (int x = xStart; x < xEnd; x++)
                        {
                            T value = src[inBase + y * w + x];
                            // NaN propagates, as in PyTorch.
                            if (value > best || T.IsNaN(value) || bestIndex < 0)
                            {
                                best = value;
                                bestIndex = y * w + x;
                            }
                        }
                    result[outBase + oy * outW + ox] = best;
                    argmax[outBase + oy * outW + ox] = bestIndex;
                }
        }
        return new(Tensor<T>.Wrap(result, n, c, outH, outW), argmax);
    }

    /// <inheritdoc />
    public virtual Tensor<T> MaxPool2dBackward<T>(Pool2dParams parameters, Tensor<T> gradOutput, object? saved)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w) = (parameters.Batch, parameters.Channels, parameters.Height, parameters.Width);
        var (outH, outW) = (parameters.OutH, parameters.OutW);
        var argmax = (int[])saved!;
        var g = gradOutput.CpuData;
        var gradInput = new T[parameters.InputCount];
        for (int plane = 0; plane < n * c; plane++)
        {
            int inBase = plane * h * w, outBase = plane * outH * outW;
            for (int k = 0; k < outH * outW; k++)
                if (argmax[outBase + k] >= 0) gradInput[inBase + argmax[outBase + k]] += g[outBase + k];
        }
        return Tensor<T>.Wrap(gradInput, n, c, h, w);
    }

    /// <summary>[start, start + kernel) ∩ [0, size), in 64 bits before clipping.</summary>
    private static (int Start, int End) Clip(long start, int kernel, int size) =>
        ((int)Math.Max(start, 0), (int)Math.Min(start + kernel, size));
}

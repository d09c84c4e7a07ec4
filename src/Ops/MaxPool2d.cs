namespace DeformEngine;

/// <summary>Maximum over sliding windows of [N, C, H, W]:
/// out[n, c, oy, ox] = max over (i, j) of input[n, c, oy·sH − pH + i, ox·sW − pW + j], padding
/// reading −∞. Gradient: ∂L/∂out goes to the position of the maximum (the first one in row-major
/// window order on ties, as PyTorch), every other input position gets 0.</summary>
public static partial class Functional
{
    public static Tensor<T> MaxPool2d<T>(Tensor<T> input, (int H, int W) kernelSize,
        (int H, int W)? stride = null, (int H, int W)? padding = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        var geometry = PoolGeometry.Create(input, kernelSize, stride, padding);
        var (n, c, h, w) = (geometry.N, geometry.C, geometry.H, geometry.W);
        var (outH, outW) = (geometry.OutH, geometry.OutW);
        if (!input.Device.IsCpu) return MaxPool2dOnDevice(input, geometry, kernelSize);
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
                    var (yStart, yEnd) = Clip(geometry.StartY(oy), kernelSize.H, h);
                    var (xStart, xEnd) = Clip(geometry.StartX(ox), kernelSize.W, w);
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
        var output = Tensor<T>.Wrap(result, n, c, outH, outW);
        return Autograd.Record(output, "MaxPool2d", (grad, _) =>
        {
            var g = grad.CpuData;
            var gradInput = new T[src.Length];
            for (int plane = 0; plane < n * c; plane++)
            {
                int inBase = plane * h * w, outBase = plane * outH * outW;
                for (int k = 0; k < outH * outW; k++)
                    if (argmax[outBase + k] >= 0) gradInput[inBase + argmax[outBase + k]] += g[outBase + k];
            }
            return [Tensor<T>.Wrap(gradInput, input.ShapeArray)];
        }, input);
    }

    /// <summary>[start, start + kernel) ∩ [0, size), in 64 bits before clipping.</summary>
    private static (int Start, int End) Clip(long start, int kernel, int size) =>
        ((int)Math.Max(start, 0), (int)Math.Min(start + kernel, size));
}

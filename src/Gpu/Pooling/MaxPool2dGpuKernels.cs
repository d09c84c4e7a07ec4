using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Sizes of the pooling kernels: Planes = N·C planes of Height×Width pooled to OutH×OutW; the window
/// (kernel, stride, padding) of max pooling.</summary>
internal readonly record struct PoolArgs(int Planes, int Height, int Width, int OutH, int OutW, int KernelH, int KernelW,
    int StrideH, int StrideW, int PadH, int PadW)
{
    public static PoolArgs Of(Pool2dParams p) =>
        new(p.Planes, p.Height, p.Width, p.OutH, p.OutW, p.KernelH, p.KernelW, p.StrideH, p.StrideW, p.PadH, p.PadW);
}

/// <summary>
/// Kernels of <c>Ops/Pooling/Functional.MaxPool2d.cs</c>: the forward keeps each window's argmax (flat index in its
/// plane, the first maximum in row-major window order, NaN winning); the backward is a gather: each input pixel sums
/// ∂L/∂out of the windows whose argmax it is, in window order, as the CPU adds.
/// </summary>
internal static class MaxPool2dGpuKernels
{
    /// <summary>One output element (plane, oy, ox) per item. Every window holds at least one input pixel (padding is
    /// at most half the kernel), so the first one always replaces the initial value.</summary>
    public static void Forward<T, R>(ArrayView<T> input, ArrayView<T> output, ArrayView<int> argmax, PoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long outputs = (long)g.OutH * g.OutW, plane = (long)g.Height * g.Width;
        for (long index = GridLoop.First; index < g.Planes * outputs; index += GridLoop.Stride)
        {
            int ox = (int)(index % g.OutW), oy = (int)(index / g.OutW % g.OutH);
            long start = index / outputs * plane;
            T best = T.Zero;
            int bestIndex = -1;
            // The window clipped to the input in 64 bits, as the CPU: a huge kernel costs the input's size.
            long y0 = (long)oy * g.StrideH - g.PadH, x0 = (long)ox * g.StrideW - g.PadW;
            int yStart = y0 < 0 ? 0 : (int)y0, yEnd = y0 + g.KernelH < g.Height ? (int)(y0 + g.KernelH) : g.Height;
            int xStart = x0 < 0 ? 0 : (int)x0, xEnd = x0 + g.KernelW < g.Width ? (int)(x0 + g.KernelW) : g.Width;
            for (int y = yStart; y < yEnd; y++)
            {
                for (int x = xStart; x < xEnd; x++)
                {
                    T value = input[start + (long)y * g.Width + x];
                    if (value > best || R.IsNaN(value) || bestIndex < 0)
                    {
                        best = value;
                        bestIndex = y * g.Width + x;
                    }
                }
            }
            output[index] = best;
            argmax[index] = bestIndex;
        }
    }

    /// <summary>One input pixel (plane, y, x) per item: the windows that contain it, in row-major order.</summary>
    public static void Backward<T, R>(ArrayView<T> gradOutput, ArrayView<int> argmax, ArrayView<T> gradInput, PoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long plane = (long)g.Height * g.Width, outputs = (long)g.OutH * g.OutW;
        for (long index = GridLoop.First; index < g.Planes * plane; index += GridLoop.Stride)
        {
            int x = (int)(index % g.Width), y = (int)(index / g.Width % g.Height);
            long first = index / plane * outputs;
            // In 64 bits: y + pad and the window arithmetic can pass 2^31 for valid huge kernels and strides.
            long ty = (long)y + g.PadH, tx = (long)x + g.PadW;
            int oyFirst = ty - g.KernelH + 1 <= 0 ? 0 : (int)((ty - g.KernelH + g.StrideH) / g.StrideH);
            int oxFirst = tx - g.KernelW + 1 <= 0 ? 0 : (int)((tx - g.KernelW + g.StrideW) / g.StrideW);
            int oyLast = ty / g.StrideH < g.OutH - 1 ? (int)(ty / g.StrideH) : g.OutH - 1;
            int oxLast = tx / g.StrideW < g.OutW - 1 ? (int)(tx / g.StrideW) : g.OutW - 1;
            int own = y * g.Width + x;
            T sum = T.Zero;
            for (int oy = oyFirst; oy <= oyLast; oy++)
                for (int ox = oxFirst; ox <= oxLast; ox++)
                {
                    long k = first + (long)oy * g.OutW + ox;
                    if (argmax[k] == own) sum += gradOutput[k];
                }
            gradInput[index] = sum;
        }
    }
}

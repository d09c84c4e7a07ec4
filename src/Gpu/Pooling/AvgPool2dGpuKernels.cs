using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// Kernels of <c>Ops/Pooling/</c> AvgPool2d and AdaptiveAvgPool2d. Windows arrive as an int table [OutH·OutW, 6]
/// (y start, y end, x start, x end, divisor rows, divisor columns; the divisor is their product in 64 bits, converted
/// once, as the CPU divides) whose rows and columns are separable, as both operators' windows are;
/// the backward is a gather: each input pixel sums the shares of the windows that contain it, in window order, as
/// the CPU adds.
/// </summary>
internal static class AvgPool2dGpuKernels
{
    /// <summary>The ints of one window in the table.</summary>
    public const int WindowInts = 6;

    /// <summary>One output element (plane, k) per item.</summary>
    public static void Forward<T, R>(ArrayView<T> input, ArrayView<int> windows, ArrayView<T> output, PoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long outputs = (long)g.OutH * g.OutW, plane = (long)g.Height * g.Width;
        for (long index = GridLoop.First; index < g.Planes * outputs; index += GridLoop.Stride)
        {
            long window = index % outputs * WindowInts, start = index / outputs * plane;
            T sum = T.Zero;
            for (int y = windows[window]; y < windows[window + 1]; y++)
                for (int x = windows[window + 2]; x < windows[window + 3]; x++)
                    sum += input[start + (long)y * g.Width + x];
            output[index] = sum / Divisor<T, R>(windows, window);
        }
    }

    /// <summary>One input pixel (plane, y, x) per item.</summary>
    public static void Backward<T, R>(ArrayView<T> gradOutput, ArrayView<int> windows, ArrayView<T> gradInput, PoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long plane = (long)g.Height * g.Width, outputs = (long)g.OutH * g.OutW;
        for (long index = GridLoop.First; index < g.Planes * plane; index += GridLoop.Stride)
        {
            int x = (int)(index % g.Width), y = (int)(index / g.Width % g.Height);
            long upstream = index / plane * outputs;
            T sum = T.Zero;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                long row = (long)oy * g.OutW * WindowInts;
                if (y < windows[row] || y >= windows[row + 1]) continue;
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    long window = ((long)oy * g.OutW + ox) * WindowInts;
                    if (x < windows[window + 2] || x >= windows[window + 3]) continue;
                    sum += gradOutput[upstream + (long)oy * g.OutW + ox] / Divisor<T, R>(windows, window);
                }
            }
            gradInput[index] = sum;
        }
    }

    /// <summary>The divisor of the window starting at <paramref name="window"/>: rows · columns in 64 bits (a 2^30 × 2^30
    /// kernel divides by 2^60), then converted.</summary>
    private static T Divisor<T, R>(ArrayView<int> windows, long window)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T> =>
        R.FromLong((long)windows[window + 4] * windows[window + 5]);
}

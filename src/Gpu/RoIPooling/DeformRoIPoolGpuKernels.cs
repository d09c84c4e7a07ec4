using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Sizes of the DeformRoIPool kernels: input [*, Channels, Height, Width], output [Rois, Channels, PooledH,
/// PooledW]; HasOffset whether the bins move; Mode the backward's <see cref="ScatterMode"/>.</summary>
internal readonly record struct DeformRoIPoolArgs(int Channels, int Height, int Width, int Rois, int PooledH, int PooledW,
    int HasOffset, int Mode);

/// <summary>
/// Kernels of <c>Ops/RoIPooling/Functional.DeformRoIPool.cs</c>: RoI Align bins moved by (γ·h·offset[k, 1, bin],
/// γ·w·offset[k, 0, bin]). The input gradient is a scatter (float atomics, or 64-bit fixed point in deterministic
/// mode); the offset gradient of a bin sums over channels in one thread, a gather.
/// </summary>
internal static class DeformRoIPoolGpuKernels
{
    /// <summary>One output element (k, c, i, j) per item.</summary>
    public static void Forward<T, R>(ArrayView<T> input, ArrayView<T> windows, ArrayView<T> offset, T gamma, ArrayView<T> output,
        DeformRoIPoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long bins = (long)g.PooledH * g.PooledW, plane = (long)g.Height * g.Width;
        for (long index = GridLoop.First; index < g.Rois * g.Channels * bins; index += GridLoop.Stride)
        {
            long bin = index % bins, roi = index / bins / g.Channels;
            int channel = (int)(index / bins % g.Channels);
            var w = GpuRoIWindow<T, R>.Load(windows, roi);
            Shift(offset, g.HasOffset, w, gamma, roi, bin, bins, out T shiftY, out T shiftX);
            output[index] = w.Average(input, ((long)w.Batch * g.Channels + channel) * plane, g.Height, g.Width,
                (int)(bin / g.PooledW), (int)(bin % g.PooledW), shiftY, shiftX);
        }
    }

    /// <summary>The same items; each bin's upstream gradient to the corners of its samples.</summary>
    public static void BackwardInput<T, R>(ArrayView<T> gradOutput, ArrayView<T> windows, ArrayView<T> offset, T gamma,
        ArrayView<T> gradInput, ArrayView<long> cells, T scale, DeformRoIPoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long bins = (long)g.PooledH * g.PooledW, plane = (long)g.Height * g.Width;
        for (long index = GridLoop.First; index < g.Rois * g.Channels * bins; index += GridLoop.Stride)
        {
            long bin = index % bins, roi = index / bins / g.Channels;
            int channel = (int)(index / bins % g.Channels);
            var w = GpuRoIWindow<T, R>.Load(windows, roi);
            Shift(offset, g.HasOffset, w, gamma, roi, bin, bins, out T shiftY, out T shiftX);
            w.ScatterAverage(gradInput, cells, ((long)w.Batch * g.Channels + channel) * plane, g.Height, g.Width,
                (int)(bin / g.PooledW), (int)(bin % g.PooledW), shiftY, shiftX, gradOutput[index], g.Mode, scale);
        }
    }

    /// <summary>One bin (k, i, j) per item: gradOffset[k, 0, bin] = γ·w·Σ_c ∂L/∂out · ∂bin/∂shiftX (y likewise).</summary>
    public static void BackwardOffset<T, R>(ArrayView<T> gradOutput, ArrayView<T> input, ArrayView<T> windows, ArrayView<T> offset,
        T gamma, ArrayView<T> gradOffset, DeformRoIPoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long bins = (long)g.PooledH * g.PooledW, plane = (long)g.Height * g.Width;
        for (long index = GridLoop.First; index < g.Rois * bins; index += GridLoop.Stride)
        {
            long bin = index % bins, roi = index / bins;
            var w = GpuRoIWindow<T, R>.Load(windows, roi);
            Shift(offset, 1, w, gamma, roi, bin, bins, out T shiftY, out T shiftX);
            T dy = T.Zero, dx = T.Zero;
            for (int channel = 0; channel < g.Channels; channel++)
            {
                T upstream = gradOutput[(roi * g.Channels + channel) * bins + bin];
                w.ShiftGradient(input, ((long)w.Batch * g.Channels + channel) * plane, g.Height, g.Width,
                    (int)(bin / g.PooledW), (int)(bin % g.PooledW), shiftY, shiftX, out T sy, out T sx);
                dy += upstream * sy;
                dx += upstream * sx;
            }
            gradOffset[roi * 2 * bins + bin] = gamma * w.Width * dx;
            gradOffset[(roi * 2 + 1) * bins + bin] = gamma * w.Height * dy;
        }
    }

    private static void Shift<T, R>(ArrayView<T> offset, int hasOffset, GpuRoIWindow<T, R> w, T gamma, long roi, long bin, long bins,
        out T shiftY, out T shiftX)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        shiftY = hasOffset != 0 ? gamma * w.Height * offset[(roi * 2 + 1) * bins + bin] : T.Zero;
        shiftX = hasOffset != 0 ? gamma * w.Width * offset[roi * 2 * bins + bin] : T.Zero;
    }
}

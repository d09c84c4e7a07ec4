using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Sizes of the RoIAlign kernels: input [*, Channels, Height, Width], output [Rois, channels out, PooledH,
/// PooledW] (Outputs elements); PositionSensitive selects PSRoIAlign's channel map; Mode is the backward's
/// <see cref="ScatterMode"/>.</summary>
internal readonly record struct RoIAlignArgs(int Channels, int Height, int Width, int Rois, int PooledH, int PooledW,
    int PositionSensitive, long Outputs, int Mode);

/// <summary>
/// Kernels of RoIAlign and PSRoIAlign (<c>Ops/RoIPooling/Functional.RoIAlign.cs</c>, one sampler for both): the forward
/// gathers one bin per thread; the backward scatters each bin's upstream gradient to the corners of its samples
/// (float atomics, or 64-bit fixed point in deterministic mode). Bin (i, j) of output channel c reads input channel c,
/// or (c·PH + i)·PW + j when position-sensitive. RoIs come from the host-built window table.
/// </summary>
internal static class RoIAlignGpuKernels
{
    public static void Forward<T, R>(ArrayView<T> input, ArrayView<T> windows, ArrayView<T> output, RoIAlignArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long index = GridLoop.First; index < g.Outputs; index += GridLoop.Stride)
        {
            int j = (int)(index % g.PooledW), i = (int)(index / g.PooledW % g.PooledH);
            var w = GpuRoIWindow<T, R>.Load(windows, index / (g.Outputs / g.Rois));
            output[index] = w.Average(input, InputPlane(index, w.Batch, g), g.Height, g.Width, i, j, T.Zero, T.Zero);
        }
    }

    public static void Backward<T, R>(ArrayView<T> gradOutput, ArrayView<T> windows, ArrayView<T> gradInput, ArrayView<long> cells,
        T scale, RoIAlignArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long index = GridLoop.First; index < g.Outputs; index += GridLoop.Stride)
        {
            int j = (int)(index % g.PooledW), i = (int)(index / g.PooledW % g.PooledH);
            var w = GpuRoIWindow<T, R>.Load(windows, index / (g.Outputs / g.Rois));
            w.ScatterAverage(gradInput, cells, InputPlane(index, w.Batch, g), g.Height, g.Width, i, j, T.Zero, T.Zero,
                gradOutput[index], g.Mode, scale);
        }
    }

    /// <summary>Where the input plane of output element <paramref name="index"/> starts.</summary>
    private static long InputPlane(long index, int batch, RoIAlignArgs g)
    {
        long bins = (long)g.PooledH * g.PooledW;
        int channelsOut = g.PositionSensitive != 0 ? (int)(g.Channels / bins) : g.Channels;
        int channelOut = (int)(index / bins % channelsOut);
        long channelIn = g.PositionSensitive != 0 ? channelOut * bins + index % bins : channelOut;
        return ((long)batch * g.Channels + channelIn) * g.Height * g.Width;
    }
}

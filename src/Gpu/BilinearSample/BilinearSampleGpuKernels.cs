using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Sizes of BilinearSample's kernels: input [Batch, Channels, Height, Width], coords [Batch, Points, 2];
/// Mode is the backward's <see cref="ScatterMode"/>, WantCoords whether it writes the coordinate gradient.</summary>
internal readonly record struct BilinearSampleArgs(int Batch, int Channels, int Height, int Width, int Points, int Mode, int WantCoords);

/// <summary>Kernels of <c>Ops/BilinearSample/</c>: the sample (one thread per output element) and its backward (one
/// thread per point, looping over channels), through <see cref="GpuBilinearCorners{T, R}"/>.</summary>
internal static class BilinearSampleGpuKernels
{
    /// <summary>output[b, ch, k] = bilinear(input[b, ch], coords[b, k]).</summary>
    public static void Sample<T, R>(ArrayView<T> input, ArrayView<T> coords, ArrayView<T> output, BilinearSampleArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long plane = (long)g.Height * g.Width;
        for (long index = GridLoop.First; index < (long)g.Batch * g.Channels * g.Points; index += GridLoop.Stride)
        {
            long k = index % g.Points, planeIndex = index / g.Points;
            long point = planeIndex / g.Channels * g.Points + k;
            var c = GpuBilinearCorners<T, R>.At(coords[point * 2], coords[point * 2 + 1], g.Height, g.Width);
            T result = T.Zero;
            if (c.Inside)
            {
                c.Values(input, planeIndex * plane, g.Width, out T lt, out T rt, out T lb, out T rb);
                result = c.Sample(lt, rt, lb, rb);
            }
            output[index] = result;
        }
    }

    /// <summary>The coordinate gradient is written directly (on the edges y = −1, x = −1 too: torchvision's slope
    /// from the inside); the input gradient is scattered from points inside only (see <see cref="ScatterMode"/>; cells
    /// are laid out as the input).</summary>
    public static void Backward<T, R>(ArrayView<T> gradOutput, ArrayView<T> input, ArrayView<T> coords, ArrayView<T> gradInput,
        ArrayView<long> cells, T scale, ArrayView<T> gradCoords, BilinearSampleArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long plane = (long)g.Height * g.Width;
        for (long point = GridLoop.First; point < (long)g.Batch * g.Points; point += GridLoop.Stride)
        {
            long b = point / g.Points, k = point % g.Points;
            var c = GpuBilinearCorners<T, R>.At(coords[point * 2], coords[point * 2 + 1], g.Height, g.Width);
            T dy = T.Zero, dx = T.Zero;
            if (c.HasSlope)
            {
                for (int ch = 0; ch < g.Channels; ch++)
                {
                    long planeIndex = b * g.Channels + ch;
                    T upstream = gradOutput[planeIndex * g.Points + k];
                    if (g.Mode != (int)ScatterMode.None && c.Inside)
                        c.Scatter(gradInput, planeIndex * plane, cells, planeIndex * plane, g.Width, upstream, g.Mode, scale);
                    if (g.WantCoords != 0)
                    {
                        c.Values(input, planeIndex * plane, g.Width, out T lt, out T rt, out T lb, out T rb);
                        c.Gradient(lt, rt, lb, rb, out T sy, out T sx);
                        dy += upstream * sy;
                        dx += upstream * sx;
                    }
                }
            }
            if (g.WantCoords != 0)
            {
                gradCoords[point * 2] = dy;
                gradCoords[point * 2 + 1] = dx;
            }
        }
    }
}

using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>The geometry of a (deformable) convolution on a chunk of Images images starting at FirstImage; columns
/// hold the chunk back to back: [images, Channels·KernelH·KernelW, OutH·OutW].</summary>
internal readonly record struct ConvGeometry(int Channels, int Height, int Width, int KernelH, int KernelW, int OutH, int OutW,
    int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW, int FirstImage, int Images)
{
    public static ConvGeometry Of(Conv2dParams cp, int firstImage, int images) =>
        new(cp.InChannels, cp.Height, cp.Width, cp.KernelH, cp.KernelW, cp.OutH, cp.OutW,
            cp.Stride.H, cp.Stride.W, cp.Padding.H, cp.Padding.W, cp.Dilation.H, cp.Dilation.W, firstImage, images);

    public int Points => KernelH * KernelW;

    public long Columns => (long)OutH * OutW;
}

/// <summary>
/// Kernels of <c>Ops/Conv2d/</c>: im2col, col2im as a gather (each pixel sums the column entries that read it, in
/// kernel-tap order: no atomics, deterministic, and the same order as the CPU's col2im), and the bias add that the
/// deformable convolution uses too (the bias gradient is a per-channel sum of <see cref="ReductionGpuKernels"/>).
/// </summary>
internal static class Conv2dGpuKernels
{
    /// <summary>One column entry (image, c, kernel point, output position) per item.</summary>
    public static void Im2Col<T, R>(ArrayView<T> input, ArrayView<T> columns, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        int points = g.Points;
        long cols = g.Columns;
        for (long index = GridLoop.First; index < (long)g.Images * g.Channels * points * cols; index += GridLoop.Stride)
        {
            long l = index % cols, rest = index / cols;
            int k = (int)(rest % points);
            rest /= points;
            int c = (int)(rest % g.Channels);
            long n = g.FirstImage + rest / g.Channels;
            int i = k / g.KernelW, j = k % g.KernelW;
            int iy = (int)(l / g.OutW) * g.StrideH - g.PadH + i * g.DilationH;
            int ix = (int)(l % g.OutW) * g.StrideW - g.PadW + j * g.DilationW;
            bool inside = iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width;
            columns[index] = inside ? input[((n * g.Channels + c) * g.Height + iy) * g.Width + ix] : T.Zero;
        }
    }

    /// <summary>One input pixel (image, c, y, x) of the chunk per item; writes gradInput.</summary>
    public static void Col2Im<T, R>(ArrayView<T> columns, ArrayView<T> gradInput, ConvGeometry g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long plane = (long)g.Height * g.Width, cols = g.Columns;
        for (long index = GridLoop.First; index < (long)g.Images * g.Channels * plane; index += GridLoop.Stride)
        {
            int x = (int)(index % g.Width), y = (int)(index / g.Width % g.Height);
            long rows = index / plane * g.Points * cols;
            T sum = T.Zero;
            for (int i = 0; i < g.KernelH; i++)
            {
                int ty = y + g.PadH - i * g.DilationH;
                if (ty < 0 || ty % g.StrideH != 0 || ty / g.StrideH >= g.OutH) continue;
                int oy = ty / g.StrideH;
                for (int j = 0; j < g.KernelW; j++)
                {
                    int tx = x + g.PadW - j * g.DilationW;
                    if (tx < 0 || tx % g.StrideW != 0 || tx / g.StrideW >= g.OutW) continue;
                    sum += columns[rows + (long)(i * g.KernelW + j) * cols + (long)oy * g.OutW + tx / g.StrideW];
                }
            }
            gradInput[(long)g.FirstImage * g.Channels * plane + index] = sum;
        }
    }

    /// <summary>output [batch, channels, plane] += bias[channel].</summary>
    public static void AddBias<T, R>(ArrayView<T> output, ArrayView<T> bias, int channels, long plane, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = GridLoop.First; i < count; i += GridLoop.Stride)
            output[i] += bias[i / plane % channels];
    }
}

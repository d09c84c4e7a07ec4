using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>A deformable convolution's chunk: the convolution's geometry, its offset groups, whether a mask is given,
/// and for the backward the <see cref="ScatterMode"/> of the input gradient and which of the offset and mask
/// gradients to write.</summary>
internal readonly record struct DeformArgs(ConvGeometry Conv, int OffsetGroups, int HasMask, int Mode, int WantOffset, int WantMask);

/// <summary>
/// Kernels of <c>Ops/DeformConv2d/</c>: deformable im2col and the sampling backward, with the layouts of the CPU
/// reference (offset [N, 2·G·kh·kw, OutH·OutW] with dy first, mask [N, G·kh·kw, OutH·OutW], columns
/// [images, C·kh·kw, OutH·OutW]), through <see cref="GpuBilinearCorners{T, R}"/>.
/// </summary>
internal static class DeformConv2dGpuKernels
{
    /// <summary>One column entry (image, c, kernel point, output position) per item: columns = m · bilinear(input[c], p).</summary>
    public static void DeformIm2Col<T, R>(ArrayView<T> input, ArrayView<T> offset, ArrayView<T> mask, ArrayView<T> columns, DeformArgs d)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        var g = d.Conv;
        int points = g.Points;
        long cols = g.Columns, plane = (long)g.Height * g.Width;
        for (long index = GridLoop.First; index < (long)g.Images * g.Channels * points * cols; index += GridLoop.Stride)
        {
            long l = index % cols, rest = index / cols;
            int k = (int)(rest % points);
            rest /= points;
            int c = (int)(rest % g.Channels);
            long n = g.FirstImage + rest / g.Channels;
            int group = c / (g.Channels / d.OffsetGroups);
            var corners = SamplingPoint<T, R>(offset, d, n, group, k, l);
            T m = d.HasMask != 0 ? mask[((n * d.OffsetGroups + group) * points + k) * cols + l] : T.One;
            T sample = T.Zero;
            if (corners.Inside)
            {
                corners.Values(input, (n * g.Channels + c) * plane, g.Width, out T lt, out T rt, out T lb, out T rb);
                sample = corners.Sample(lt, rt, lb, rb);
            }
            columns[index] = m * sample;
        }
    }

    /// <summary>One sampling point (image, offset group, kernel point, output position) per item, looping over the
    /// group's channels: gradOffset = m·Σ_c ∂L/∂col·∂sample/∂(y, x), gradMask = Σ_c ∂L/∂col·sample, and the input
    /// gradient g_q·m·∂L/∂col scattered to the corners (cells are laid out per chunk image).</summary>
    public static void SamplingBackward<T, R>(ArrayView<T> gradColumns, ArrayView<T> input, ArrayView<T> offset, ArrayView<T> mask,
        ArrayView<T> gradInput, ArrayView<long> cells, T scale, ArrayView<T> gradOffset, ArrayView<T> gradMask, DeformArgs d)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        var g = d.Conv;
        int points = g.Points, perGroup = g.Channels / d.OffsetGroups;
        long cols = g.Columns, plane = (long)g.Height * g.Width;
        for (long index = GridLoop.First; index < (long)g.Images * d.OffsetGroups * points * cols; index += GridLoop.Stride)
        {
            long l = index % cols, rest = index / cols;
            int k = (int)(rest % points);
            rest /= points;
            int group = (int)(rest % d.OffsetGroups);
            long localN = rest / d.OffsetGroups, n = g.FirstImage + localN;
            var corners = SamplingPoint<T, R>(offset, d, n, group, k, l);
            long maskIndex = ((n * d.OffsetGroups + group) * points + k) * cols + l;
            long offsetIndex = ((n * d.OffsetGroups + group) * points + k) * 2 * cols + l;
            // NOTE: a point outside [−1, H) × [−1, W), or a non-finite one, sampled 0 whatever its offset: every
            // gradient through it is 0 (written as 0, not m·0, which a NaN mask would spoil). On the edges y = −1,
            // x = −1 it sampled 0 too (no input or mask gradient) but has torchvision's slope from the inside.
            if (!corners.HasSlope)
            {
                if (d.WantOffset != 0)
                {
                    gradOffset[offsetIndex] = T.Zero;
                    gradOffset[offsetIndex + cols] = T.Zero;
                }
                if (d.WantMask != 0) gradMask[maskIndex] = T.Zero;
                continue;
            }
            T m = d.HasMask != 0 ? mask[maskIndex] : T.One;
            T dy = T.Zero, dx = T.Zero, dm = T.Zero;
            for (int c = group * perGroup; c < (group + 1) * perGroup; c++)
            {
                T upstream = gradColumns[((localN * g.Channels + c) * points + k) * cols + l];
                if (d.Mode != (int)ScatterMode.None && corners.Inside)
                    corners.Scatter(gradInput, (n * g.Channels + c) * plane, cells, (localN * g.Channels + c) * plane, g.Width, m * upstream, d.Mode, scale);
                if (d.WantOffset != 0 || d.WantMask != 0)
                {
                    corners.Values(input, (n * g.Channels + c) * plane, g.Width, out T lt, out T rt, out T lb, out T rb);
                    if (d.WantOffset != 0)
                    {
                        corners.Gradient(lt, rt, lb, rb, out T sy, out T sx);
                        dy += upstream * sy;
                        dx += upstream * sx;
                    }
                    if (d.WantMask != 0 && corners.Inside) dm += upstream * corners.Sample(lt, rt, lb, rb);
                }
            }
            if (d.WantOffset != 0)
            {
                gradOffset[offsetIndex] = m * dy;
                gradOffset[offsetIndex + cols] = m * dx;
            }
            if (d.WantMask != 0) gradMask[maskIndex] = dm;
        }
    }

    /// <summary>The sampling point of kernel point k = (i, j) of output position l, offset group g, image n.</summary>
    private static GpuBilinearCorners<T, R> SamplingPoint<T, R>(ArrayView<T> offset, DeformArgs d, long n, int group, int k, long l)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        var g = d.Conv;
        long cols = g.Columns;
        long start = ((n * d.OffsetGroups + group) * g.Points + k) * 2 * cols + l;
        int i = k / g.KernelW, j = k % g.KernelW;
        T y = R.FromInt((int)(l / g.OutW) * g.StrideH - g.PadH + i * g.DilationH) + offset[start];
        T x = R.FromInt((int)(l % g.OutW) * g.StrideW - g.PadW + j * g.DilationW) + offset[start + cols];
        return GpuBilinearCorners<T, R>.At(y, x, g.Height, g.Width);
    }
}

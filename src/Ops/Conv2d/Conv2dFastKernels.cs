using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace DeformEngine.Kernels;

/// <summary>Fast im2col / col2im of a regular convolution on a chunk of images, in the column layout
/// of a chunk's GEMM: row (c·kh + i)·kw + j, column b·L + y·OutW + x (b the image within the chunk,
/// L = OutH·OutW). Each output row segment is split once into its padding and its inside part; with
/// stride 1 the inside part is a contiguous copy (im2col) or a vector add (col2im).
/// Tasks are fixed by the shape: im2col tasks are (channel, image) pairs and write disjoint column
/// blocks; col2im tasks own one image's whole channel plane and add its kernel points and rows in
/// the reference order, so the input gradient does not depend on the thread count.</summary>
internal static class Conv2dFastKernels
{
    /// <summary>Output columns x in [lo, hi) read input column x·s − p + j·d inside [0, width).</summary>
    private static (int Lo, int Hi) InsideRange(int outSize, int size, int stride, int offset)
    {
        // ix = x·stride + offset ∈ [0, size)  ⇔  x ∈ [ceil(−offset / stride), ceil((size − offset) / stride)).
        int lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int hi = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride;
        lo = Math.Min(lo, outSize);
        hi = Math.Clamp(hi, lo, outSize);
        return (lo, hi);
    }

    /// <summary>columns[columnStart + (c, i, j)·images·L + b·L + l] = input[first + b, c, …] (0 in the padding).</summary>
    public static void Im2Col<T>(Conv2dParams cp, T[] input, int first, int images, T[] columns, int columnStart)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = cp.ColumnCols, rowLength = images * L, plane = cp.Height * cp.Width;
        ParallelLoop.For(cp.InChannels * images, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int c = task / images, b = task - c * images;
            var image = input.AsSpan(((first + b) * cp.InChannels + c) * plane, plane);
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                {
                    var row = columns.AsSpan(columnStart + ((c * cp.KernelH + i) * cp.KernelW + j) * rowLength + b * L, L);
                    int offsetX = j * cp.Dilation.W - cp.Padding.W;
                    var (lo, hi) = InsideRange(cp.OutW, cp.Width, cp.Stride.W, offsetX);
                    for (int y = 0; y < cp.OutH; y++)
                    {
                        var segment = row.Slice(y * cp.OutW, cp.OutW);
                        int iy = y * cp.Stride.H - cp.Padding.H + i * cp.Dilation.H;
                        if ((uint)iy >= (uint)cp.Height || lo >= hi)
                        {
                            segment.Clear();
                            continue;
                        }
                        segment[..lo].Clear();
                        segment[hi..].Clear();
                        var source = image.Slice(iy * cp.Width, cp.Width);
                        if (cp.Stride.W == 1)
                            source.Slice(lo + offsetX, hi - lo).CopyTo(segment[lo..hi]);
                        else
                            for (int x = lo, ix = lo * cp.Stride.W + offsetX; x < hi; x++, ix += cp.Stride.W)
                                segment[x] = source[ix];
                    }
                }
        });
    }

    /// <summary>gradInput[first + b, c] += the column entries of that channel plane (the adjoint of
    /// <see cref="Im2Col{T}"/>); one task per (image, channel).</summary>
    public static void Col2Im<T>(Conv2dParams cp, T[] columns, int columnStart, int first, int images, T[] gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = cp.ColumnCols, rowLength = images * L, plane = cp.Height * cp.Width;
        ParallelLoop.For(images * cp.InChannels, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int b = task / cp.InChannels, c = task - b * cp.InChannels;
            var image = gradInput.AsSpan(((first + b) * cp.InChannels + c) * plane, plane);
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                {
                    var row = columns.AsSpan(columnStart + ((c * cp.KernelH + i) * cp.KernelW + j) * rowLength + b * L, L);
                    int offsetX = j * cp.Dilation.W - cp.Padding.W;
                    var (lo, hi) = InsideRange(cp.OutW, cp.Width, cp.Stride.W, offsetX);
                    if (lo >= hi) continue;
                    for (int y = 0; y < cp.OutH; y++)
                    {
                        int iy = y * cp.Stride.H - cp.Padding.H + i * cp.Dilation.H;
                        if ((uint)iy >= (uint)cp.Height) continue;
                        var segment = row.Slice(y * cp.OutW, cp.OutW);
                        var target = image.Slice(iy * cp.Width, cp.Width);
                        if (cp.Stride.W == 1)
                        {
                            var t = target.Slice(lo + offsetX, hi - lo);
                            TensorPrimitives.Add(t, segment[lo..hi], t);
                        }
                        else
                            for (int x = lo, ix = lo * cp.Stride.W + offsetX; x < hi; x++, ix += cp.Stride.W)
                                target[ix] += segment[x];
                    }
                }
        });
    }
}

namespace DeformEngine.Kernels;

/// <summary>Plain im2col / col2im of a regular convolution for one image [C, H, W]. Column row
/// (c·kh + i)·kw + j, column y·OutW + x, holds input[c, y·s − p + i·d, x·s − p + j·d] (0 in the padding).</summary>
internal static class Conv2dReferenceKernels
{
    public static void Im2Col<T>(Conv2dParams cp, ReadOnlySpan<T> image, Span<T> columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = cp.ColumnCols;
        for (int c = 0; c < cp.InChannels; c++)
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                {
                    var row = columns.Slice(((c * cp.KernelH + i) * cp.KernelW + j) * cols, cols);
                    for (int y = 0; y < cp.OutH; y++)
                    {
                        int iy = y * cp.Stride.H - cp.Padding.H + i * cp.Dilation.H;
                        for (int x = 0; x < cp.OutW; x++)
                        {
                            int ix = x * cp.Stride.W - cp.Padding.W + j * cp.Dilation.W;
                            bool inside = (uint)iy < (uint)cp.Height && (uint)ix < (uint)cp.Width;
                            row[y * cp.OutW + x] = inside ? image[(c * cp.Height + iy) * cp.Width + ix] : T.Zero;
                        }
                    }
                }
    }

    /// <summary>The adjoint of <see cref="Im2Col{T}"/>: adds each column entry back to its pixel.</summary>
    public static void Col2Im<T>(Conv2dParams cp, ReadOnlySpan<T> columns, Span<T> image)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int cols = cp.ColumnCols;
        for (int c = 0; c < cp.InChannels; c++)
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                {
                    var row = columns.Slice(((c * cp.KernelH + i) * cp.KernelW + j) * cols, cols);
                    for (int y = 0; y < cp.OutH; y++)
                    {
                        int iy = y * cp.Stride.H - cp.Padding.H + i * cp.Dilation.H;
                        if ((uint)iy >= (uint)cp.Height) continue;
                        for (int x = 0; x < cp.OutW; x++)
                        {
                            int ix = x * cp.Stride.W - cp.Padding.W + j * cp.Dilation.W;
                            if ((uint)ix < (uint)cp.Width) image[(c * cp.Height + iy) * cp.Width + ix] += row[y * cp.OutW + x];
                        }
                    }
                }
    }
}

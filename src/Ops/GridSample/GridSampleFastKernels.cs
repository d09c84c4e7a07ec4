using System.Runtime.CompilerServices;

namespace DeformEngine.Kernels;

/// <summary>Threaded kernels of <see cref="Functional.GridSample{T}"/>: each point's pixel coordinates and
/// corners are computed once and applied to every channel. The NCHW layout puts a point's channels a
/// plane apart, so the channel loop is scalar; the work is split into fixed tasks that never depend on
/// the thread count:
/// <list type="bullet">
/// <item>forward: one task per (image, output row), owning those output values;</item>
/// <item>backward: one task per (image, block of <see cref="ChannelBlock"/> channels), owning those
/// input-gradient planes and a partial grid gradient (the channels' sum for the block); the partials
/// are then added in block order.</item>
/// </list></summary>
internal static class GridSampleFastKernels
{
    /// <summary>Channels per backward task.</summary>
    public const int ChannelBlock = 8;

    public static void Forward<T>(GridSampleParams parameters, T[] input, T[] grid, T[] output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (c, h, w, points, outW) = (parameters.Channels, parameters.Height, parameters.Width, parameters.Points, parameters.OutWidth);
        var xAxis = new GridAxis<T>(w, parameters.Padding, parameters.AlignCorners);
        var yAxis = new GridAxis<T>(h, parameters.Padding, parameters.AlignCorners);
        int plane = h * w;
        ParallelLoop.For(parameters.Batch * parameters.OutHeight, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int b = task / parameters.OutHeight, first = (task - b * parameters.OutHeight) * outW;
            for (int k = first; k < first + outW; k++)
            {
                var (x, _) = xAxis.Source(grid[(b * points + k) * 2]);
                var (y, _) = yAxis.Source(grid[(b * points + k) * 2 + 1]);
                int source = b * c * plane, target = b * c * points + k;
                if (parameters.Mode == GridSampleMode.Nearest)
                {
                    var nearest = new GridNearest<T>(y, x, h, w);
                    int pixel = nearest.Row * w + nearest.Column;
                    for (int ch = 0; ch < c; ch++)
                        output[target + ch * points] = nearest.In ? input[source + ch * plane + pixel] : T.Zero;
                    continue;
                }
                var corners = new GridCorners<T>(y, x, h, w);
                var (offsets, weights) = Table(corners, w);
                for (int ch = 0; ch < c; ch++)
                {
                    int at = source + ch * plane;
                    output[target + ch * points] = corners.Any
                        ? weights.Lt * Read(input, at, offsets.Lt) + weights.Rt * Read(input, at, offsets.Rt) +
                          weights.Lb * Read(input, at, offsets.Lb) + weights.Rb * Read(input, at, offsets.Rb)
                        : T.Zero;
                }
            }
        });
    }

    public static void Backward<T>(GridSampleParams parameters, T[] input, T[] grid, T[] gradOutput, T[]? gradInput, T[]? gradGrid)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (c, h, w, points) = (parameters.Channels, parameters.Height, parameters.Width, parameters.Points);
        var xAxis = new GridAxis<T>(w, parameters.Padding, parameters.AlignCorners);
        var yAxis = new GridAxis<T>(h, parameters.Padding, parameters.AlignCorners);
        int plane = h * w, blocks = (c + ChannelBlock - 1) / ChannelBlock;
        bool bilinear = parameters.Mode == GridSampleMode.Bilinear;
        // NOTE: nearest mode is piecewise constant in the grid: its grid gradient stays 0.
        var partials = gradGrid is not null && bilinear ? new T[blocks * grid.Length] : null;
        if (gradInput is null && partials is null) return;
        ParallelLoop.For(parameters.Batch * blocks, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int b = task / blocks, block = task - b * blocks;
            int firstChannel = block * ChannelBlock, endChannel = Math.Min(firstChannel + ChannelBlock, c);
            for (int k = 0; k < points; k++)
            {
                var (x, dxdGrid) = xAxis.Source(grid[(b * points + k) * 2]);
                var (y, dydGrid) = yAxis.Source(grid[(b * points + k) * 2 + 1]);
                if (!bilinear)
                {
                    var nearest = new GridNearest<T>(y, x, h, w);
                    if (!nearest.In) continue;
                    for (int ch = firstChannel; ch < endChannel; ch++)
                        gradInput![(b * c + ch) * plane + nearest.Row * w + nearest.Column] += gradOutput[(b * c + ch) * points + k];
                    continue;
                }
                var corners = new GridCorners<T>(y, x, h, w);
                if (!corners.Any) continue;
                var (offsets, weights) = Table(corners, w);
                T sumLt = T.Zero, sumRt = T.Zero, sumLb = T.Zero, sumRb = T.Zero;
                for (int ch = firstChannel; ch < endChannel; ch++)
                {
                    T upstream = gradOutput[(b * c + ch) * points + k];
                    int at = (b * c + ch) * plane;
                    if (gradInput is not null)
                    {
                        Add(gradInput, at, offsets.Lt, weights.Lt * upstream);
                        Add(gradInput, at, offsets.Rt, weights.Rt * upstream);
                        Add(gradInput, at, offsets.Lb, weights.Lb * upstream);
                        Add(gradInput, at, offsets.Rb, weights.Rb * upstream);
                    }
                    sumLt += upstream * Read(input, at, offsets.Lt);
                    sumRt += upstream * Read(input, at, offsets.Rt);
                    sumLb += upstream * Read(input, at, offsets.Lb);
                    sumRb += upstream * Read(input, at, offsets.Rb);
                }
                if (partials is not null)
                {
                    T oneMinusLy = T.One - corners.Ly, oneMinusLx = T.One - corners.Lx;
                    int at = block * grid.Length + (b * points + k) * 2;
                    partials[at] = (oneMinusLy * (sumRt - sumLt) + corners.Ly * (sumRb - sumLb)) * dxdGrid;
                    partials[at + 1] = (oneMinusLx * (sumLb - sumLt) + corners.Lx * (sumRb - sumRt)) * dydGrid;
                }
            }
        });
        if (partials is null) return;
        for (int block = 0; block < blocks; block++)
            for (int i = 0; i < gradGrid!.Length; i++)
                gradGrid[i] += partials[block * grid.Length + i];
    }

    /// <summary>The in-plane offsets of the four corners (−1 for a corner outside) and their coefficients.</summary>
    private static ((int Lt, int Rt, int Lb, int Rb) Offsets, (T Lt, T Rt, T Lb, T Rb) Weights) Table<T>(GridCorners<T> corners, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int Offset(int corner)
        {
            var (row, column, inside, _, _, _) = corners.Corner(corner);
            return inside ? row * width + column : -1;
        }
        T oneMinusLy = T.One - corners.Ly, oneMinusLx = T.One - corners.Lx;
        return ((Offset(0), Offset(1), Offset(2), Offset(3)),
            (oneMinusLy * oneMinusLx, oneMinusLy * corners.Lx, corners.Ly * oneMinusLx, corners.Ly * corners.Lx));
    }

    private static T Read<T>(T[] data, int plane, int offset) where T : unmanaged, IFloatingPointIeee754<T> =>
        offset < 0 ? T.Zero : data[plane + offset];

    private static void Add<T>(T[] data, int plane, int offset, T amount) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (offset >= 0) data[plane + offset] += amount;
    }
}

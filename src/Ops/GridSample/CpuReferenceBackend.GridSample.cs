using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IGridSampleBackend"/>: one loop over images and output points; per
/// point the pixel coordinates (<see cref="GridAxis{T}"/>) and the corners (<see cref="GridCorners{T}"/>,
/// <see cref="GridNearest{T}"/>) once, then a loop over channels.</summary>
public partial class CpuReferenceBackend : IGridSampleBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> GridSample<T>(GridSampleParams parameters, Tensor<T> input, Tensor<T> grid)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w, points) = (parameters.Batch, parameters.Channels, parameters.Height, parameters.Width, parameters.Points);
        var xAxis = new GridAxis<T>(w, parameters.Padding, parameters.AlignCorners);
        var yAxis = new GridAxis<T>(h, parameters.Padding, parameters.AlignCorners);
        var src = input.CpuData;
        var xy = grid.CpuData;
        var result = new T[n * c * points];
        int plane = h * w;
        for (int b = 0; b < n; b++)
            for (int k = 0; k < points; k++)
            {
                var (x, _) = xAxis.Source(xy[(b * points + k) * 2]);
                var (y, _) = yAxis.Source(xy[(b * points + k) * 2 + 1]);
                for (int ch = 0; ch < c; ch++)
                {
                    var image = src.AsSpan((b * c + ch) * plane, plane);
                    result[(b * c + ch) * points + k] = parameters.Mode == GridSampleMode.Nearest
                        ? GridNearestValue(new GridNearest<T>(y, x, h, w), image, w)
                        : GridBilinearValue(new GridCorners<T>(y, x, h, w), image, w);
                }
            }
        return Tensor<T>.Wrap(result, n, c, parameters.OutHeight, parameters.OutWidth);
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] GridSampleBackward<T>(GridSampleParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> grid, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w, points) = (parameters.Batch, parameters.Channels, parameters.Height, parameters.Width, parameters.Points);
        var xAxis = new GridAxis<T>(w, parameters.Padding, parameters.AlignCorners);
        var yAxis = new GridAxis<T>(h, parameters.Padding, parameters.AlignCorners);
        var src = input.CpuData;
        var xy = grid.CpuData;
        var g = gradOutput.CpuData;
        var gradInput = needs[0] ? new T[src.Length] : null;
        // NOTE: nearest mode is piecewise constant in the grid: its grid gradient is 0 everywhere.
        var gradGrid = needs[1] ? new T[xy.Length] : null;
        int plane = h * w;
        for (int b = 0; b < n; b++)
            for (int k = 0; k < points; k++)
            {
                var (x, dxdGrid) = xAxis.Source(xy[(b * points + k) * 2]);
                var (y, dydGrid) = yAxis.Source(xy[(b * points + k) * 2 + 1]);
                if (parameters.Mode == GridSampleMode.Nearest)
                {
                    var nearest = new GridNearest<T>(y, x, h, w);
                    if (gradInput is null || !nearest.In) continue;
                    for (int ch = 0; ch < c; ch++)
                        gradInput[(b * c + ch) * plane + nearest.Row * w + nearest.Column] += g[(b * c + ch) * points + k];
                    continue;
                }
                var corners = new GridCorners<T>(y, x, h, w);
                if (!corners.Any) continue;
                T dy = T.Zero, dx = T.Zero;
                for (int ch = 0; ch < c; ch++)
                {
                    T upstream = g[(b * c + ch) * points + k];
                    int offset = (b * c + ch) * plane;
                    for (int q = 0; q < 4; q++)
                    {
                        var (row, column, inside, weight, weightDy, weightDx) = corners.Corner(q);
                        if (!inside) continue;
                        if (gradInput is not null) gradInput[offset + row * w + column] += weight * upstream;
                        T value = src[offset + row * w + column];
                        dy += weightDy * value * upstream;
                        dx += weightDx * value * upstream;
                    }
                }
                if (gradGrid is not null)
                {
                    gradGrid[(b * points + k) * 2] = dx * dxdGrid;
                    gradGrid[(b * points + k) * 2 + 1] = dy * dydGrid;
                }
            }
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradGrid is null ? null : Tensor<T>.Wrap(gradGrid, grid.ShapeArray)];
    }

    private static T GridNearestValue<T>(GridNearest<T> nearest, ReadOnlySpan<T> image, int width)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        nearest.In ? image[nearest.Row * width + nearest.Column] : T.Zero;

    private static T GridBilinearValue<T>(GridCorners<T> corners, ReadOnlySpan<T> image, int width)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!corners.Any) return T.Zero;
        T sum = T.Zero;
        for (int q = 0; q < 4; q++)
        {
            var (row, column, inside, weight, _, _) = corners.Corner(q);
            if (inside) sum += weight * image[row * width + column];
        }
        return sum;
    }
}

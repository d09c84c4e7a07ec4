namespace DeformEngine.Kernels;

/// <summary>One feature level of multi-scale deformable attention: its H×W pixels start at row
/// <see cref="Start"/> of the value. A sampling location (x, y) ∈ [0, 1]² becomes the grid value
/// 2·loc − 1 and then the pixel coordinate of grid_sample with align_corners = False and zero padding,
/// x_pix = (grid + 1)·W/2 − 0.5 = loc·W − 0.5, computed in those steps as the published reference does.</summary>
internal readonly struct AttentionLevel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Two = T.CreateChecked(2);
    private readonly GridAxis<T> _x, _y;

    public AttentionLevel(int height, int width, int start)
    {
        Height = height;
        Width = width;
        Start = start;
        _x = new GridAxis<T>(width, GridSamplePadding.Zeros, alignCorners: false);
        _y = new GridAxis<T>(height, GridSamplePadding.Zeros, alignCorners: false);
        // NOTE: d(x_pix)/d(loc_x) = d(x_pix)/d(grid) · d(grid)/d(loc) = W/2 · 2 = W (both factors
        // are powers of two or exact halves, so multiplying by W rounds as the two steps do).
        ScaleX = T.CreateChecked(width);
        ScaleY = T.CreateChecked(height);
    }

    public int Height { get; }
    public int Width { get; }
    public int Start { get; }

    /// <summary>d(pixel x)/d(location x) = W and d(pixel y)/d(location y) = H.</summary>
    public T ScaleX { get; }
    public T ScaleY { get; }

    public static AttentionLevel<T>[] All(MultiScaleDeformableAttentionParams parameters) =>
        parameters.SpatialShapes.Select((shape, l) => new AttentionLevel<T>(shape.H, shape.W, parameters.LevelStartIndex[l])).ToArray();

    /// <summary>The corners of location (x, y) in this level's plane.</summary>
    public GridCorners<T> Corners(T locationX, T locationY)
    {
        T x = _x.Source(Two * locationX - T.One).Coordinate;
        T y = _y.Source(Two * locationY - T.One).Coordinate;
        return new GridCorners<T>(y, x, Height, Width);
    }

    /// <summary>The pixel coordinates (y, x) of location (x, y).</summary>
    public (T Y, T X) Pixel(T locationX, T locationY) =>
        (_y.Source(Two * locationY - T.One).Coordinate, _x.Source(Two * locationX - T.One).Coordinate);
}

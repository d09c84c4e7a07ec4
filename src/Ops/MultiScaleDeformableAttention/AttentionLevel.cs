namespace DeformEngine.Kernels;

/// <summary>One feature level of multi-scale deformable attention: its H×W pixels start at row
/// <see cref="Start"/> of the value. A sampling location (x, y) ∈ [0, 1]² becomes the grid value
/// 2·loc − 1 and then the pixel coordinate of grid_sample with align_corners = False and zero padding,
/// x_pix = (grid + 1)·W/2 − 0.5 = loc·W − 0.5, computed in those steps as the published reference does.</summary>
internal readonly struct AttentionLevel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Two = T.CreateChecked(2), Half = T.CreateChecked(0.5);
    private readonly GridAxis<T> _x, _y;
    private readonly T _halfWidth, _halfHeight, _width, _height;

    public AttentionLevel(int height, int width, int start)
    {
        Height = height;
        Width = width;
        Start = start;
        _x = new GridAxis<T>(width, GridSamplePadding.Zeros, alignCorners: false);
        _y = new GridAxis<T>(height, GridSamplePadding.Zeros, alignCorners: false);
        _width = T.CreateChecked(width);
        _height = T.CreateChecked(height);
        _halfWidth = _width / Two;
        _halfHeight = _height / Two;
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

    /// <summary>The corners of location (x, y) as the fast kernels use them, the arithmetic of
    /// <see cref="Corners"/> written out for inlining: false when no corner is in the map; else the
    /// top-left corner (<paramref name="top"/>, <paramref name="left"/>) and the fractional parts.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Locate(T locationX, T locationY, out int top, out int left, out T ly, out T lx)
    {
        T x = (Two * locationX - T.One + T.One) * _halfWidth - Half;
        T y = (Two * locationY - T.One + T.One) * _halfHeight - Half;
        if (!(y >= -T.One && y < _height && x >= -T.One && x < _width))
        {
            top = left = 0;
            ly = lx = T.Zero;
            return false;
        }
        T floorY = T.Floor(y), floorX = T.Floor(x);
        top = int.CreateTruncating(floorY);
        left = int.CreateTruncating(floorX);
        ly = y - floorY;
        lx = x - floorX;
        return true;
    }

    /// <summary>The pixel coordinates (y, x) of location (x, y).</summary>
    public (T Y, T X) Pixel(T locationX, T locationY) =>
        (_y.Source(Two * locationY - T.One).Coordinate, _x.Source(Two * locationX - T.One).Coordinate);
}

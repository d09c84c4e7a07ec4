namespace DeformEngine.Kernels;

/// <summary>The bilinear corners of a pixel coordinate (y, x) under torch's <c>grid_sample</c> rules:
/// q_lt = (⌊y⌋, ⌊x⌋), q_rt = q_lt + (0, 1), q_lb = q_lt + (1, 0), q_rb = q_lt + (1, 1), with
/// g_lt = (1−ly)(1−lx), g_rt = (1−ly)lx, g_lb = ly(1−lx), g_rb = ly·lx (ly = y − ⌊y⌋, lx = x − ⌊x⌋);
/// each corner outside the H×W plane reads 0 on its own.</summary>
public readonly struct GridCorners<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>False when no corner lies in the plane or the coordinate is not finite: the sample
    /// is 0 and so is every gradient.</summary>
    public readonly bool Any;
    /// <summary>Row ⌊y⌋ of the top corners and column ⌊x⌋ of the left corners (0 when <see cref="Any"/> is
    /// false).</summary>
    public readonly int Top, Left;
    /// <summary>Fractional parts ly = y − ⌊y⌋ and lx = x − ⌊x⌋.</summary>
    public readonly T Ly, Lx;
    /// <summary>Whether the top row, bottom row, left column and right column lie inside the plane; a corner outside
    /// reads 0.</summary>
    public readonly bool TopIn, BottomIn, LeftIn, RightIn;

    /// <summary>The corners of the pixel coordinate (<paramref name="y"/>, <paramref name="x"/>) in a
    /// <paramref name="height"/>×<paramref name="width"/> plane.</summary>
    /// <param name="y">Row coordinate in pixels (any value, NaN and ±∞ included).</param>
    /// <param name="x">Column coordinate in pixels (any value, NaN and ±∞ included).</param>
    /// <param name="height">H, the rows of the plane.</param>
    /// <param name="width">W, the columns of the plane.</param>
    public GridCorners(T y, T x, int height, int width)
    {
        // NOTE: closed at −1, unlike deformable convolution's open box (−1, H): at x = −1 the right
        // corners (column 0) carry weight lx = 0 but a non-zero ∂/∂x, and torch's gradient includes
        // them. mmcv's CUDA ms_deform_attn kernel uses the open box; its pure-PyTorch path (grid_sample)
        // this operator follows does not. Written as a positive test so that NaN falls outside.
        Any = y >= -T.One && y < T.CreateTruncating(height) && x >= -T.One && x < T.CreateTruncating(width);
        if (!Any)
        {
            this = default;
            return;
        }
        // NOTE: ⌊·⌋ is piecewise constant: the corner indices carry no gradient; coordinates reach
        // the output only through ly and lx in the four coefficients. On an integer the right-hand
        // derivative is taken (lx = 0), as torch's floor does.
        T top = T.Floor(y), left = T.Floor(x);
        Top = int.CreateTruncating(top);
        Left = int.CreateTruncating(left);
        Ly = y - top;
        Lx = x - left;
        TopIn = Top >= 0;
        BottomIn = Top + 1 < height;
        LeftIn = Left >= 0;
        RightIn = Left + 1 < width;
    }

    /// <summary>Corner <paramref name="corner"/> (0 = lt, 1 = rt, 2 = lb, 3 = rb): its row and column,
    /// whether it lies in the plane, its coefficient g_q and the derivatives ∂g_q/∂y, ∂g_q/∂x.</summary>
    public (int Row, int Column, bool In, T Weight, T WeightDy, T WeightDx) Corner(int corner)
    {
        T oneMinusLy = T.One - Ly, oneMinusLx = T.One - Lx;
        return corner switch
        {
            0 => (Top, Left, TopIn && LeftIn, oneMinusLy * oneMinusLx, -oneMinusLx, -oneMinusLy),
            1 => (Top, Left + 1, TopIn && RightIn, oneMinusLy * Lx, -Lx, oneMinusLy),
            2 => (Top + 1, Left, BottomIn && LeftIn, Ly * oneMinusLx, oneMinusLx, -Ly),
            3 => (Top + 1, Left + 1, BottomIn && RightIn, Ly * Lx, Lx, Ly),
            _ => throw new ArgumentOutOfRangeException(nameof(corner), corner, "corner: expected 0 (lt), 1 (rt), 2 (lb) or 3 (rb)."),
        };
    }
}

/// <summary>The nearest pixel of (y, x) under torch's <c>grid_sample</c> rules: both coordinates rounded
/// half to even (<c>nearbyint</c>); a pixel outside the plane, or a non-finite coordinate, reads 0.</summary>
public readonly struct GridNearest<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>True when the nearest pixel lies inside the plane and the coordinates are finite.</summary>
    public readonly bool In;
    /// <summary>Row and column of the nearest pixel (0 when not <see cref="In"/>).</summary>
    public readonly int Row, Column;

    /// <summary>The nearest pixel of (<paramref name="y"/>, <paramref name="x"/>), in pixels, in a
    /// <paramref name="height"/>×<paramref name="width"/> plane.</summary>
    /// <param name="y">Row coordinate in pixels.</param>
    /// <param name="x">Column coordinate in pixels.</param>
    /// <param name="height">H, the rows of the plane.</param>
    /// <param name="width">W, the columns of the plane.</param>
    public GridNearest(T y, T x, int height, int width)
    {
        T row = T.Round(y, MidpointRounding.ToEven), column = T.Round(x, MidpointRounding.ToEven);
        In = row >= T.Zero && row < T.CreateTruncating(height) && column >= T.Zero && column < T.CreateTruncating(width);
        Row = In ? int.CreateTruncating(row) : 0;
        Column = In ? int.CreateTruncating(column) : 0;
    }
}

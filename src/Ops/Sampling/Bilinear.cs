using System.Numerics;
using System.Runtime.CompilerServices;

namespace DeformEngine.Kernels;

/// <summary>The four corners of a bilinear sample at (y, x) in one H×W plane, in the notation of
/// the DCN write-ups: q_lt = (⌊y⌋, ⌊x⌋), q_rb = q_lt + (1, 1), and the coefficients
/// g_lt = (1−ly)(1−lx), g_rt = (1−ly)·lx, g_lb = ly·(1−lx), g_rb = ly·lx with ly = y − ⌊y⌋,
/// lx = x − ⌊x⌋. "Left/right" index x, "top/bottom" index y.</summary>
public readonly struct BilinearCorners<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>False when the point is outside the open box (−1, H) × (−1, W) or not finite: the
    /// sample is then 0 and so are the input and mask gradients.</summary>
    public readonly bool Inside;
    /// <summary>True when the point is finite and in [−1, H) × [−1, W): where the coordinate gradient
    /// is taken. It adds the edges y = −1 and x = −1 to <see cref="Inside"/>.</summary>
    public readonly bool HasSlope;
    /// <summary>Row ⌊y⌋ of the top corners and column ⌊x⌋ of the left corners (0 when the point has no
    /// slope).</summary>
    public readonly int Top, Left;
    /// <summary>Fractional parts ly = y − ⌊y⌋ and lx = x − ⌊x⌋.</summary>
    public readonly T Ly, Lx;
    /// <summary>Whether the top row, bottom row, left column and right column lie inside the plane; a corner outside
    /// reads 0.</summary>
    public readonly bool TopIn, BottomIn, LeftIn, RightIn;

    /// <summary>The corners of the sample at (<paramref name="y"/>, <paramref name="x"/>), in pixels, of a
    /// <paramref name="height"/>×<paramref name="width"/> plane.</summary>
    /// <param name="y">Row coordinate in pixels (any value, NaN and ±∞ included).</param>
    /// <param name="x">Column coordinate in pixels (any value, NaN and ±∞ included).</param>
    /// <param name="height">H, the rows of the plane.</param>
    /// <param name="width">W, the columns of the plane.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public BilinearCorners(T y, T x, int height, int width)
    {
        // NOTE: written as a positive test so that NaN and ±Inf coordinates fall outside: they
        // read 0 and carry no gradient (torchvision's `h <= -1 || height <= h` lets NaN through).
        Inside = y > -T.One && y < T.CreateTruncating(height) && x > -T.One && x < T.CreateTruncating(width);
        // NOTE: torchvision's coordinate gradient (get_coordinate_weight) has no border test of its
        // own: on the edge y = −1 the sample is 0 but the slope is taken from the inside, the same
        // right-hand slope as at every integer coordinate (v_lt = v_rt = 0, v_lb, v_rb from row 0).
        // At y = H the corners are both outside and the slope is 0, as everywhere beyond.
        HasSlope = y >= -T.One && y < T.CreateTruncating(height) && x >= -T.One && x < T.CreateTruncating(width);
        if (!HasSlope)
        {
            this = default;
            return;
        }
        // NOTE: ⌊y⌋ is a step function: the integer corner indices carry no gradient. Offsets
        // reach the loss only through Ly and Lx inside the four coefficients.
        T top = T.Floor(y), left = T.Floor(x);
        Top = int.CreateTruncating(top);
        Left = int.CreateTruncating(left);
        Ly = y - top;
        Lx = x - left;
        TopIn = Top >= 0;
        BottomIn = Top + 1 <= height - 1;
        LeftIn = Left >= 0;
        RightIn = Left + 1 <= width - 1;
    }

    /// <summary>g_lt = (1 − ly)(1 − lx), the weight of the top-left corner.</summary>
    public T Glt { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (T.One - Ly) * (T.One - Lx); }
    /// <summary>g_rt = (1 − ly)·lx, the weight of the top-right corner.</summary>
    public T Grt { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => (T.One - Ly) * Lx; }
    /// <summary>g_lb = ly·(1 − lx), the weight of the bottom-left corner.</summary>
    public T Glb { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Ly * (T.One - Lx); }
    /// <summary>g_rb = ly·lx, the weight of the bottom-right corner.</summary>
    public T Grb { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Ly * Lx; }

    /// <summary>Values of the four corners (0 for a corner outside the plane).</summary>
    public (T Lt, T Rt, T Lb, T Rb) Values(ReadOnlySpan<T> plane, int width)
    {
        int row = Top * width, next = row + width;
        return (
            TopIn && LeftIn ? plane[row + Left] : T.Zero,
            TopIn && RightIn ? plane[row + Left + 1] : T.Zero,
            BottomIn && LeftIn ? plane[next + Left] : T.Zero,
            BottomIn && RightIn ? plane[next + Left + 1] : T.Zero);
    }

    /// <summary>Σ g_q · v_q.</summary>
    public T Sample(ReadOnlySpan<T> plane, int width)
    {
        if (!Inside) return T.Zero;
        var (lt, rt, lb, rb) = Values(plane, width);
        return Glt * lt + Grt * rt + Glb * lb + Grb * rb;
    }

    /// <summary>∂sample/∂y and ∂sample/∂x: the derivatives of the four coefficients,
    /// ∂g_lt/∂y = −(1−lx), ∂g_rt/∂y = −lx, ∂g_lb/∂y = 1−lx, ∂g_rb/∂y = lx (and likewise in x); taken
    /// wherever <see cref="HasSlope"/>, the edges y = −1 and x = −1 included.</summary>
    public (T Dy, T Dx) Gradient(ReadOnlySpan<T> plane, int width)
    {
        if (!HasSlope) return (T.Zero, T.Zero);
        var (lt, rt, lb, rb) = Values(plane, width);
        T dy = (T.One - Lx) * (lb - lt) + Lx * (rb - rt);
        T dx = (T.One - Ly) * (rt - lt) + Ly * (rb - lb);
        return (dy, dx);
    }

    /// <summary>Adds g_q · value to each corner inside the plane (the adjoint of <see cref="Sample"/>).</summary>
    public void Scatter(Span<T> plane, int width, T value)
    {
        if (!Inside) return;
        int row = Top * width, next = row + width;
        if (TopIn && LeftIn) plane[row + Left] += Glt * value;
        if (TopIn && RightIn) plane[row + Left + 1] += Grt * value;
        if (BottomIn && LeftIn) plane[next + Left] += Glb * value;
        if (BottomIn && RightIn) plane[next + Left + 1] += Grb * value;
    }
}

using System.Numerics;

namespace DeformEngine.Kernels;

/// <summary>A bilinear sample at (y, x) in one H×W plane with the border rule of the RoI pooling
/// references: a point within a margin m of the plane, −m ≤ y ≤ (H−1)+m (x likewise), is clamped
/// to [0, H−1] × [0, W−1] and interpolated from its four corners q_lt = (⌊y⌋, ⌊x⌋) … q_rb with
/// g_lt = (1−ly)(1−lx), g_rt = (1−ly)·lx, g_lb = ly·(1−lx), g_rb = ly·lx; a point beyond the margin
/// reads 0. torchvision and mmcv use m = 1 (−1 ≤ y ≤ H), MXNet uses m = ½ (−½ ≤ y ≤ H − ½).</summary>
/// <remarks>Unlike <c>BilinearSample</c> and deformable convolution, which read 0 for a corner
/// outside the plane (zero padding), the RoI references replicate the edge: a sample in the band
/// between the edge and the margin reads the clamped point.</remarks>
internal readonly struct RoIBilinear<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>False when the point is beyond the margin or not finite: it reads 0 and every
    /// gradient through it is 0.</summary>
    public readonly bool Inside;
    public readonly int Top, Bottom, Left, Right;
    /// <summary>Fractional parts of the clamped point.</summary>
    public readonly T Ly, Lx;
    /// <summary>Whether y (x) was clamped to an edge, where the sample does not depend on it.</summary>
    public readonly bool YClamped, XClamped;

    private RoIBilinear(T y, T x, int height, int width, T margin)
    {
        T lastRow = T.CreateTruncating(height - 1), lastColumn = T.CreateTruncating(width - 1);
        // NOTE: written as a positive test so that NaN coordinates (possible through offsets) fall
        // outside and carry no gradient.
        Inside = y >= -margin && y <= lastRow + margin && x >= -margin && x <= lastColumn + margin;
        if (!Inside)
        {
            this = default;
            return;
        }
        // NOTE: in the clamped band the sample is constant in that coordinate, so its derivative
        // there is 0 (torchvision: `if (y <= 0) y = 0`, `if (y_low >= height - 1) y = height - 1`;
        // MXNet: `min(max(w, 0), width − 1)`). At y = 0 and y = H−1 the function has a kink; we
        // take the clamped (zero) side.
        YClamped = y <= T.Zero || y >= lastRow;
        XClamped = x <= T.Zero || x >= lastColumn;
        T cy = T.Clamp(y, T.Zero, lastRow), cx = T.Clamp(x, T.Zero, lastColumn);
        Top = int.CreateTruncating(cy);
        Left = int.CreateTruncating(cx);
        Bottom = Math.Min(Top + 1, height - 1);
        Right = Math.Min(Left + 1, width - 1);
        Ly = cy - T.CreateTruncating(Top);
        Lx = cx - T.CreateTruncating(Left);
    }

    /// <summary>The torchvision roi_align / ps_roi_align and mmcv deform_roi_pool rule: −1 ≤ y ≤ H.</summary>
    public static RoIBilinear<T> TorchVision(T y, T x, int height, int width) => new(y, x, height, width, T.One);

    /// <summary>The MXNet DeformablePSROIPooling rule: −½ ≤ y ≤ H − ½.</summary>
    public static RoIBilinear<T> Mxnet(T y, T x, int height, int width) =>
        new(y, x, height, width, T.CreateTruncating(0.5));

    public T Glt => (T.One - Ly) * (T.One - Lx);
    public T Grt => (T.One - Ly) * Lx;
    public T Glb => Ly * (T.One - Lx);
    public T Grb => Ly * Lx;

    private (T Lt, T Rt, T Lb, T Rb) Values(ReadOnlySpan<T> plane, int width) => (
        plane[Top * width + Left], plane[Top * width + Right],
        plane[Bottom * width + Left], plane[Bottom * width + Right]);

    /// <summary>Σ g_q · v_q (0 outside).</summary>
    public T Sample(ReadOnlySpan<T> plane, int width)
    {
        if (!Inside) return T.Zero;
        var (lt, rt, lb, rb) = Values(plane, width);
        return Glt * lt + Grt * rt + Glb * lb + Grb * rb;
    }

    /// <summary>∂sample/∂y = (1−lx)(v_lb − v_lt) + lx(v_rb − v_rt) and ∂sample/∂x likewise, each 0
    /// where that coordinate is clamped.</summary>
    public (T Dy, T Dx) Gradient(ReadOnlySpan<T> plane, int width)
    {
        if (!Inside) return (T.Zero, T.Zero);
        var (lt, rt, lb, rb) = Values(plane, width);
        // NOTE: at an integer coordinate (ly = 0) this is the right-hand slope, towards the
        // Top + 1 corner; the two-sided derivative does not exist there.
        T dy = YClamped ? T.Zero : (T.One - Lx) * (lb - lt) + Lx * (rb - rt);
        T dx = XClamped ? T.Zero : (T.One - Ly) * (rt - lt) + Ly * (rb - lb);
        return (dy, dx);
    }

    /// <summary>Adds g_q · value to each corner (the adjoint of <see cref="Sample"/>); coinciding
    /// corners at a clamped edge receive the sum of their coefficients.</summary>
    public void Scatter(Span<T> plane, int width, T value)
    {
        if (!Inside) return;
        plane[Top * width + Left] += Glt * value;
        plane[Top * width + Right] += Grt * value;
        plane[Bottom * width + Left] += Glb * value;
        plane[Bottom * width + Right] += Grb * value;
    }
}

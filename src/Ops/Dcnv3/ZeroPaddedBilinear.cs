namespace DeformEngine.Kernels;

/// <summary>The bilinear sample of <c>torch.nn.functional.grid_sample</c> (bilinear, zero padding) at a
/// pixel position (x, y) of an H×W map, the sampler of DCNv3 and DCNv4: corners lt = (⌊y⌋, ⌊x⌋),
/// rt = lt + (0, 1), lb = lt + (1, 0), rb = lt + (1, 1) with g_lt = (1−ly)(1−lx), g_rt = (1−ly)lx,
/// g_lb = ly(1−lx), g_rb = ly·lx (lx = x − ⌊x⌋, ly = y − ⌊y⌋); a corner outside the map reads 0.
/// Corner q is numbered lt, rt, lb, rb = 0, 1, 2, 3.</summary>
internal readonly struct ZeroPaddedBilinear<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>False when no corner lies in the map (x ∉ [−1, W) or y ∉ [−1, H), or not finite): the sample
    /// is 0 and so is every gradient.</summary>
    public readonly bool Any;
    public readonly int Left, Top;
    public readonly T Lx, Ly;
    private readonly int _width;
    private readonly bool _leftIn, _rightIn, _topIn, _bottomIn;

    public ZeroPaddedBilinear(T x, T y, int height, int width)
    {
        // NOTE: unlike DeformConv2d's open box (−1, H) × (−1, W), grid_sample has no inside test: at
        // x = −1 exactly the sample is 0 but the right-hand corner at column 0 still passes a gradient to x
        // (the one-sided derivative of the floor convention). Written as a positive test so that NaN
        // and ±Inf positions fall outside and read 0 with no gradient.
        Any = x >= -T.One && x < T.CreateTruncating(width) && y >= -T.One && y < T.CreateTruncating(height);
        if (!Any)
        {
            this = default;
            return;
        }
        // NOTE: ⌊x⌋ and ⌊y⌋ are step functions: the corner indices carry no gradient; the position reaches
        // the result only through lx and ly inside the four coefficients.
        T left = T.Floor(x), top = T.Floor(y);
        Left = int.CreateTruncating(left);
        Top = int.CreateTruncating(top);
        Lx = x - left;
        Ly = y - top;
        _width = width;
        _leftIn = Left >= 0;
        _rightIn = Left + 1 < width;
        _topIn = Top >= 0;
        _bottomIn = Top + 1 < height;
    }

    /// <summary>The pixel index row·W + column of corner <paramref name="q"/>, or −1 outside the map.</summary>
    public int Pixel(int q)
    {
        bool rowIn = q < 2 ? _topIn : _bottomIn, columnIn = (q & 1) == 0 ? _leftIn : _rightIn;
        return Any && rowIn && columnIn ? (Top + (q >> 1)) * _width + Left + (q & 1) : -1;
    }

    /// <summary>g_q.</summary>
    public T Weight(int q) => (q < 2 ? T.One - Ly : Ly) * ((q & 1) == 0 ? T.One - Lx : Lx);

    /// <summary>∂g_q/∂x: −(1−ly), 1−ly, −ly, ly.</summary>
    public T WeightDx(int q) => (q & 1) == 0 ? -(q < 2 ? T.One - Ly : Ly) : q < 2 ? T.One - Ly : Ly;

    /// <summary>∂g_q/∂y: −(1−lx), −lx, 1−lx, lx.</summary>
    public T WeightDy(int q) => q < 2 ? -((q & 1) == 0 ? T.One - Lx : Lx) : (q & 1) == 0 ? T.One - Lx : Lx;
}

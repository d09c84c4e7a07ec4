namespace DeformEngine.Kernels;

/// <summary>One axis of torch's <c>grid_sample</c>: the map from a normalised coordinate g ∈ [−1, 1]
/// to a pixel coordinate of an axis of <c>size</c> pixels, with the padding rule applied, and the
/// derivative of that map (the factor torch multiplies the grid gradient by).
/// <list type="bullet">
/// <item>align_corners: x = (g + 1)·(size − 1)/2, so ±1 are the centres of the end pixels;
/// otherwise x = (g + 1)·size/2 − 0.5, so ±1 are the outer edges of the end pixels.</item>
/// <item>Border: x clipped into [0, size − 1]; the derivative is 0 where x was clipped, and on the
/// border itself (torch treats both ends as outside for the gradient).</item>
/// <item>Reflection: x reflected about low and low + span (low = 0, span = size − 1 with
/// align_corners; low = −0.5, span = size otherwise), each reflection flipping the derivative's
/// sign, then clipped as for Border.</item>
/// </list>
/// The operations follow torch 1.13's CPU kernel step by step, so that coordinates that land exactly
/// on a pixel, a border or a reflection point are rounded, floored and differentiated as there.</summary>
public readonly struct GridAxis<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Half = T.CreateChecked(0.5);
    private readonly T _scale, _low, _twiceSpan, _max;
    private readonly GridSamplePadding _padding;
    private readonly bool _alignCorners, _emptyReflection;

    /// <summary>The map of one axis of <paramref name="size"/> pixels.</summary>
    /// <param name="size">Pixels along the axis, positive.</param>
    /// <param name="padding">What coordinates outside the axis become.</param>
    /// <param name="alignCorners">±1 are the centres of the end pixels (true) or their outer edges (false).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive.</exception>
    public GridAxis(int size, GridSamplePadding padding, bool alignCorners)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        T two = T.CreateChecked(2);
        _padding = padding;
        _alignCorners = alignCorners;
        _scale = T.CreateChecked(alignCorners ? size - 1 : size) / two;
        _max = T.CreateChecked(size - 1);
        _low = alignCorners ? T.Zero : -Half;
        _twiceSpan = T.CreateChecked(alignCorners ? size - 1 : size) * two;
        // NOTE: with align_corners a one-pixel axis has nothing to reflect across: torch maps every
        // coordinate to 0 with derivative 0.
        _emptyReflection = alignCorners && size <= 1;
    }

    /// <summary>The pixel coordinate of normalised <paramref name="normalised"/> and d(coordinate)/d(normalised).</summary>
    public (T Coordinate, T Derivative) Source(T normalised)
    {
        T x = (normalised + T.One) * _scale;
        if (!_alignCorners) x -= Half;
        T derivative = _scale;
        if (_padding == GridSamplePadding.Reflection)
        {
            if (_emptyReflection) return (T.Zero, T.Zero);
            T shifted = x - _low;
            T distance = T.Abs(shifted);
            T extra = distance - T.Truncate(distance / _twiceSpan) * _twiceSpan;
            T reflected = _twiceSpan - extra;
            bool flip = extra > reflected;
            x = (flip ? reflected : extra) + _low;
            // NOTE: the mirror image moves against the original on every other span, and |·| flips
            // once more for coordinates below low: the derivative is ±scale.
            if (flip != shifted < T.Zero) derivative = -derivative;
        }
        if (_padding != GridSamplePadding.Zeros)
        {
            // NaN stays NaN here (IEEE maximum and minimum propagate it) and later reads 0.
            T bounded = T.Max(x, T.Zero);
            T clipped = T.Min(bounded, _max);
            // NOTE: a clipped coordinate no longer moves with the grid; torch also takes the
            // derivative as 0 exactly on 0 and on size − 1.
            if (bounded == T.Zero || clipped == _max) derivative = T.Zero;
            x = clipped;
        }
        return (x, derivative);
    }
}

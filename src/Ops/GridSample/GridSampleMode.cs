namespace DeformEngine;

/// <summary>How <see cref="Functional.GridSample{T}"/> reads the input between pixels (torch's <c>mode</c>).</summary>
public enum GridSampleMode
{
    /// <summary>The four surrounding pixels weighted by (1 − ly)(1 − lx), (1 − ly)lx, ly(1 − lx), ly·lx.</summary>
    Bilinear,

    /// <summary>The nearest pixel, ties rounded to even (torch's <c>nearbyint</c>); the grid gets no gradient.</summary>
    Nearest,
}

/// <summary>What <see cref="Functional.GridSample{T}"/> reads outside the input (torch's <c>padding_mode</c>).</summary>
public enum GridSamplePadding
{
    /// <summary>Pixels outside the input read 0.</summary>
    Zeros,

    /// <summary>Coordinates are clipped into [0, size − 1].</summary>
    Border,

    /// <summary>Coordinates are reflected at the border (at the pixel centres with align_corners, at the
    /// pixel edges without), then clipped.</summary>
    Reflection,
}

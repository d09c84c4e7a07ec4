namespace DeformEngine;

/// <summary>Sizes and options of a <see cref="Functional.GridSample{T}"/> call: input [Batch, Channels,
/// Height, Width], grid [Batch, OutHeight, OutWidth, 2], output [Batch, Channels, OutHeight, OutWidth].</summary>
public sealed record GridSampleParams(int Batch, int Channels, int Height, int Width, int OutHeight, int OutWidth,
    GridSampleMode Mode, GridSamplePadding Padding, bool AlignCorners)
{
    /// <summary>Sampling points per image, OutHeight · OutWidth.</summary>
    public int Points => OutHeight * OutWidth;

    /// <summary>Checks every argument of <see cref="Functional.GridSample{T}"/> before any work.</summary>
    internal static GridSampleParams Create<T>(Tensor<T> input, Tensor<T> grid, GridSampleMode mode, GridSamplePadding paddingMode,
        bool alignCorners)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(grid);
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"mode: expected Bilinear or Nearest, got {(int)mode}.");
        if (!Enum.IsDefined(paddingMode))
            throw new ArgumentOutOfRangeException(nameof(paddingMode), paddingMode,
                $"paddingMode: expected Zeros, Border or Reflection, got {(int)paddingMode}.");
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        ShapeMath.RequireRank(nameof(grid), grid.ShapeSpan, 4, "[N, Hout, Wout, 2] of (x, y)");
        Functional.RequireSameDevice(nameof(grid), input, grid);
        SamplingChecks.RequirePositiveSizes(nameof(input), input.ShapeSpan, "[N, C, H, W]");
        SamplingChecks.RequirePositiveSizes(nameof(grid), grid.ShapeSpan, "[N, Hout, Wout, 2]");
        int n = input.ShapeArray[0], outH = grid.ShapeArray[1], outW = grid.ShapeArray[2];
        ShapeMath.RequireShape(nameof(grid), grid.ShapeSpan, [n, outH, outW, 2]);
        return new GridSampleParams(n, input.ShapeArray[1], input.ShapeArray[2], input.ShapeArray[3], outH, outW,
            mode, paddingMode, alignCorners);
    }
}

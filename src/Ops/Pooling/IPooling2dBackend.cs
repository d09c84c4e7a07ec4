namespace DeformEngine;

/// <summary>Sizes of a 2-D pooling over [N, C, H, W] seen as <see cref="Planes"/> = N·C planes of
/// <see cref="Height"/>×<see cref="Width"/>, pooled to <see cref="OutH"/>×<see cref="OutW"/>.</summary>
public sealed record Pool2dParams(int Batch, int Channels, int Height, int Width, int OutH, int OutW,
    int KernelH = 0, int KernelW = 0, int StrideH = 1, int StrideW = 1, int PadH = 0, int PadW = 0)
{
    /// <summary>N·C: the number of independent H×W planes.</summary>
    public int Planes => Batch * Channels;

    /// <summary>Elements of the input, N·C·H·W, in 64 bits.</summary>
    public long InputCount => (long)Planes * Height * Width;

    /// <summary>Elements of the output, N·C·OutH·OutW, in 64 bits.</summary>
    public long OutputCount => (long)Planes * OutH * OutW;
}

/// <summary>One averaging window, clipped to the input, and what its sum is divided by: DivisorRows ·
/// DivisorColumns, kept as two factors that each fit an int (a 2^30 × 2^30 kernel divides by 2^60).</summary>
public readonly record struct PoolWindow(int YStart, int YEnd, int XStart, int XEnd, int DivisorRows, int DivisorColumns)
{
    /// <summary>DivisorRows·DivisorColumns in 64 bits: what the window's sum is divided by.</summary>
    public long Divisor => (long)DivisorRows * DivisorColumns;
}

/// <summary>What a backend implements to run <see cref="Functional.MaxPool2d{T}"/>.</summary>
public interface IMaxPool2dBackend
{
    /// <summary>The maxima [N, C, OutH, OutW], saving where each was taken.</summary>
    OperatorOutput<T> MaxPool2d<T>(Pool2dParams parameters, Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>∂L/∂input: each upstream value routed to its window's argmax.</summary>
    Tensor<T> MaxPool2dBackward<T>(Pool2dParams parameters, Tensor<T> gradOutput, object? saved)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>What a backend implements to run <see cref="Functional.AvgPool2d{T}"/> and
/// <see cref="Functional.AdaptiveAvgPool2d{T}"/>: windows [OutH·OutW], rows and columns separable.</summary>
public interface IAvgPool2dBackend
{
    /// <summary>out = Σ over the window / its divisor, per plane.</summary>
    Tensor<T> AvgPool2d<T>(Pool2dParams parameters, PoolWindow[] windows, Tensor<T> input)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>∂L/∂input: each upstream value / divisor spread over its window.</summary>
    Tensor<T> AvgPool2dBackward<T>(Pool2dParams parameters, PoolWindow[] windows, Tensor<T> gradOutput)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

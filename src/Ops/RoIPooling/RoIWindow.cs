namespace DeformEngine;

/// <summary>One RoI on the feature map, in feature-map pixels: the image it reads, its top-left
/// corner, its extent, the size of one output bin, and the sampling grid per bin
/// (gridH × gridW points averaged).</summary>
public readonly record struct RoIWindow<T>(
    int Batch, T StartY, T StartX, T Height, T Width, T BinHeight, T BinWidth, int GridH, int GridW)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The divisor of the average, max(gridH·gridW, 1) as in torchvision and mmcv, so an
    /// empty grid (adaptive sampling of a zero-sized RoI) averages to 0.</summary>
    public T Count => T.CreateTruncating(Math.Max(GridH * GridW, 1));
}

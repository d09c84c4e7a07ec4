namespace DeformEngine;

/// <summary>Sizes of a <see cref="Functional.DeformRoIPool{T}"/> call: input [Batch, Channels, Height, Width],
/// <see cref="Rois"/> RoIs of <see cref="PooledH"/>×<see cref="PooledW"/> bins, offsets scaled by
/// <see cref="Gamma"/> times the RoI size.</summary>
public sealed record DeformRoIPoolParams(int Batch, int Channels, int Height, int Width, int Rois, int PooledH, int PooledW,
    double Gamma)
{
    /// <summary>Bins per RoI and channel: PooledH·PooledW.</summary>
    public int Bins => PooledH * PooledW;

    /// <summary>Elements of the input, Batch·Channels·Height·Width, in 64 bits.</summary>
    public long InputCount => (long)Batch * Channels * Height * Width;
}

/// <summary>What a backend implements to run <see cref="Functional.DeformRoIPool{T}"/> (and through it
/// <see cref="Functional.ModulatedDeformRoIPool{T}"/>). The windows are the aligned RoI Align windows, built on
/// the host (<see cref="RoIWindow{T}"/>).</summary>
public interface IDeformRoIPoolBackend
{
    /// <summary>The pooled bins [Rois, Channels, PooledH, PooledW]; offset [Rois, 2, PH, PW] or null.</summary>
    Tensor<T> DeformRoIPool<T>(DeformRoIPoolParams parameters, Tensor<T> input, RoIWindow<T>[] windows, Tensor<T>? offset)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, offset) where <paramref name="needs"/> asks: the input's a scatter,
    /// the offset's a gather per bin.</summary>
    Tensor<T>?[] DeformRoIPoolBackward<T>(DeformRoIPoolParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        RoIWindow<T>[] windows, Tensor<T>? offset, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

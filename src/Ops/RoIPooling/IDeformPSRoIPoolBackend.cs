namespace DeformEngine;

/// <summary>The parameters of a <see cref="Functional.DeformPSRoIPool{T}"/> call, checked: input
/// [Batch, OutputDim·GroupSize², Height, Width], output [Rois, OutputDim, PooledSize, PooledSize],
/// trans [Rois, 2·Classes, Parts, Parts] (or none).</summary>
public sealed record DeformPSRoIPoolParams(int Batch, int Channels, int Height, int Width, int Rois, double SpatialScale,
    int OutputDim, int GroupSize, int PooledSize, int Parts, int Samples, int Classes, double TransStd)
{
    /// <summary>Elements of the input, Batch·Channels·Height·Width, in 64 bits.</summary>
    public long InputCount => (long)Batch * Channels * Height * Width;
}

/// <summary>What a backend implements to run <see cref="Functional.DeformPSRoIPool{T}"/>. Each backend
/// derives MXNet's rounded RoIs from the checked rois (<see cref="DeformPSRoIPoolGeometry{T}"/>).</summary>
public interface IDeformPSRoIPoolBackend
{
    /// <summary>The pooled bins; trans null = no offsets.</summary>
    Tensor<T> DeformPSRoIPool<T>(DeformPSRoIPoolParams parameters, Tensor<T> input, Tensor<T> rois, Tensor<T>? trans)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, trans) where <paramref name="needs"/> asks: a scatter, and a gather per part.</summary>
    Tensor<T>?[] DeformPSRoIPoolBackward<T>(DeformPSRoIPoolParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> rois, Tensor<T>? trans, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

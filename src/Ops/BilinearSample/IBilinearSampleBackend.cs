namespace DeformEngine;

/// <summary>Sizes of a <see cref="Functional.BilinearSample{T}"/> call: input [Batch, Channels, Height, Width],
/// coords [Batch, Points, 2].</summary>
public sealed record BilinearSampleParams(int Batch, int Channels, int Height, int Width, int Points);

/// <summary>What a backend implements to run <see cref="Functional.BilinearSample{T}"/> (arguments checked,
/// on the backend's device).</summary>
public interface IBilinearSampleBackend
{
    /// <summary>The samples [Batch, Channels, Points].</summary>
    Tensor<T> BilinearSample<T>(BilinearSampleParams parameters, Tensor<T> input, Tensor<T> coords)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, coords), where <paramref name="needs"/> asks, from one pass.</summary>
    Tensor<T>?[] BilinearSampleBackward<T>(BilinearSampleParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> coords, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

namespace DeformEngine;

/// <summary>What a backend implements to run <see cref="Functional.GridSample{T}"/> (arguments checked,
/// on the backend's device).</summary>
public interface IGridSampleBackend
{
    /// <summary>The samples [Batch, Channels, OutHeight, OutWidth].</summary>
    Tensor<T> GridSample<T>(GridSampleParams parameters, Tensor<T> input, Tensor<T> grid)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, grid), where <paramref name="needs"/> asks, from one pass.</summary>
    Tensor<T>?[] GridSampleBackward<T>(GridSampleParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> grid,
        bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

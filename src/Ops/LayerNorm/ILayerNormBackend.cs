namespace DeformEngine;

/// <summary>Sizes of a <see cref="Functional.LayerNorm{T}"/> call: the input seen as [Rows, Features], each row
/// normalised over its Features values.</summary>
public sealed record LayerNormParams(int Rows, int Features, double Eps);

/// <summary>What a backend implements to run <see cref="Functional.LayerNorm{T}"/>.</summary>
public interface ILayerNormBackend
{
    /// <summary>The normalised output in the input's shape; saves the per-row mean and 1/√(σ² + ε) for its backward.</summary>
    OperatorOutput<T> LayerNorm<T>(LayerNormParams parameters, Tensor<T> input, Tensor<T>? weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, weight, bias) where <paramref name="needs"/> asks.</summary>
    Tensor<T>?[] LayerNormBackward<T>(LayerNormParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T>? weight,
        object? saved, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

namespace DeformEngine;

/// <summary>Sizes of a <see cref="Functional.Linear{T}"/> call: the input seen as [Rows, InFeatures], the
/// weight [OutFeatures, InFeatures].</summary>
public sealed record LinearParams(int Rows, int InFeatures, int OutFeatures);

/// <summary>What a backend implements to run <see cref="Functional.Linear{T}"/>.</summary>
public interface ILinearBackend
{
    /// <summary>x·Wᵀ + b as [Rows, OutFeatures] (the caller restores the leading dimensions).</summary>
    Tensor<T> Linear<T>(LinearParams parameters, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, weight, bias) where <paramref name="needs"/> asks; the input's in its
    /// own shape.</summary>
    Tensor<T>?[] LinearBackward<T>(LinearParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        Tensor<T>? bias, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

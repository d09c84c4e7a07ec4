namespace DeformEngine;

/// <summary>What a backend implements to run <see cref="Functional.Gelu{T}"/>.</summary>
public interface IGeluBackend
{
    /// <summary>x·Φ(x) elementwise, in the input's shape.</summary>
    Tensor<T> Gelu<T>(Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>∂L/∂x = ∂L/∂y·(Φ(x) + x·φ(x)).</summary>
    Tensor<T> GeluBackward<T>(Tensor<T> gradOutput, Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>;
}

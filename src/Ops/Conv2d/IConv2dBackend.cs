namespace DeformEngine;

/// <summary>What a backend implements to run <see cref="Functional.Conv2d{T}"/> (arguments checked by
/// <see cref="Conv2dParams"/>, on the backend's device).</summary>
public interface IConv2dBackend
{
    /// <summary>The output [N, O, OutH, OutW]; bias null = none.</summary>
    Tensor<T> Conv2d<T>(Conv2dParams parameters, Tensor<T> input, Tensor<T> weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, weight, bias) where <paramref name="needs"/> asks (null otherwise,
    /// and for an absent bias).</summary>
    Tensor<T>?[] Conv2dBackward<T>(Conv2dParams parameters, Tensor<T> gradOutput, Tensor<T> input, Tensor<T> weight,
        Tensor<T>? bias, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

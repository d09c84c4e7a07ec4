namespace DeformEngine;

/// <summary>Sizes and settings of a <see cref="Functional.CosineMimicLoss{T}"/> call: [Rows, Width] after flattening.</summary>
public sealed record CosineMimicLossParams(int Rows, int Width, Reduction Reduction, double Eps);

/// <summary>What a backend implements to run <see cref="Functional.CosineMimicLoss{T}"/>.</summary>
public interface ICosineMimicLossBackend
{
    /// <summary>The reduced 1 − cos loss; saves what the backward needs.</summary>
    OperatorOutput<T> CosineMimicLoss<T>(CosineMimicLossParams parameters, Tensor<T> a, Tensor<T> b)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (a, b) where <paramref name="needs"/> asks.</summary>
    Tensor<T>?[] CosineMimicLossBackward<T>(CosineMimicLossParams parameters, Tensor<T> gradOutput, Tensor<T> a, Tensor<T> b,
        object? saved, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

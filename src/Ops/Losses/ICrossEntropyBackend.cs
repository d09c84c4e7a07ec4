namespace DeformEngine;

/// <summary>Sizes of a <see cref="Functional.CrossEntropy{T}"/> call: logits [Rows, Classes].</summary>
public sealed record CrossEntropyParams(int Rows, int Classes, Reduction Reduction);

/// <summary>What a backend implements to run <see cref="Functional.CrossEntropy{T}"/>.</summary>
public interface ICrossEntropyBackend
{
    /// <summary>The reduced loss; saves the probabilities and labels for the backward. The targets are
    /// checked class indices, one per row.</summary>
    OperatorOutput<T> CrossEntropy<T>(CrossEntropyParams parameters, Tensor<T> logits, int[] targets)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>∂L/∂logits = (softmax − onehot) scaled by the upstream gradient of the reduction.</summary>
    Tensor<T> CrossEntropyBackward<T>(CrossEntropyParams parameters, Tensor<T> gradOutput, object? saved)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

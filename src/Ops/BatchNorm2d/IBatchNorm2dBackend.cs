namespace DeformEngine;

/// <summary>Sizes and settings of a <see cref="Functional.BatchNorm2d{T}"/> call over [Batch, Channels, Plane].</summary>
public sealed record BatchNorm2dParams(int Batch, int Channels, int Plane, bool Training, double Momentum, double Eps)
{
    /// <summary>Values per channel: Batch·Plane.</summary>
    public int Count => Batch * Plane;

    /// <summary>Elements of the input: Batch·Channels·Plane.</summary>
    public long Elements => (long)Batch * Channels * Plane;
}

/// <summary>What a backend implements to run <see cref="Functional.BatchNorm2d{T}"/>.</summary>
public interface IBatchNorm2dBackend
{
    /// <summary>The normalised output; in training it also updates the running statistics (when given) in
    /// place. Saves what its backward needs (the normalised input and the variance used).</summary>
    OperatorOutput<T> BatchNorm2d<T>(BatchNorm2dParams parameters, Tensor<T> input, Tensor<T>? runningMean,
        Tensor<T>? runningVar, Tensor<T>? weight, Tensor<T>? bias)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The gradients of (input, weight, bias) where <paramref name="needs"/> asks.</summary>
    Tensor<T>?[] BatchNorm2dBackward<T>(BatchNorm2dParams parameters, Tensor<T> gradOutput, Tensor<T>? weight, object? saved,
        bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

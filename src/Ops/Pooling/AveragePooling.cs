namespace DeformEngine;

/// <summary>What <see cref="Functional.AvgPool2d{T}"/> and <see cref="Functional.AdaptiveAvgPool2d{T}"/>
/// share: each output is the sum of a rectangle of its input plane (<see cref="PoolWindow"/>) divided by a
/// divisor; the backward spreads ∂L/∂out / divisor over the rectangle.</summary>
internal static class AveragePooling
{
    public static Tensor<T> Run<T>(Tensor<T> input, PoolWindow[] windows, int outH, int outW, string opName)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var shape = input.ShapeArray;
        var parameters = new Pool2dParams(shape[0], shape[1], shape[2], shape[3], outH, outW);
        var backend = OperatorBackends.For<IAvgPool2dBackend>(input.Device, opName);
        var output = backend.AvgPool2d(parameters, windows, input);
        return Autograd.Record(output, opName, (grad, _) => [backend.AvgPool2dBackward(parameters, windows, grad)], input);
    }
}

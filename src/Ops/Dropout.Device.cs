namespace DeformEngine;

/// <summary>The device path of <see cref="Functional.Dropout{T}"/>: the mask is drawn on the host from
/// the seeded generator, as on the CPU, and applied on the device.</summary>
public static partial class Functional
{
    private static Tensor<T> DropoutOnDevice<T>(Tensor<T> input, T[] scale) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scaleOnDevice = Tensor<T>.Wrap(scale, input.ShapeArray).To(input.Device);
        Tensor<T> output;
        using (Autograd.NoGrad()) output = input.Mul(scaleOnDevice);
        return Autograd.Record(output, "Dropout", (grad, _) => [grad.Mul(scaleOnDevice)], input);
    }
}

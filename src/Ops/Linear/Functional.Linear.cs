namespace DeformEngine;

/// <summary>Affine map of the last dimension: y = x·Wᵀ + b, x [..., in], W [out, in], b [out].
/// Gradients: ∂L/∂x = ∂L/∂y·W; ∂L/∂W = (∂L/∂y)ᵀ·x summed over the leading dimensions;
/// ∂L/∂b = Σ ∂L/∂y over the leading dimensions.</summary>
public static partial class Functional
{
    /// <summary>y = x·Wᵀ + b over the last dimension.</summary>
    /// <param name="input">[..., in].</param>
    /// <param name="weight">[out, in].</param>
    /// <param name="bias">[out], or null for none.</param>
    /// <returns>[..., out].</returns>
    /// <exception cref="ArgumentException">The shapes do not fit, the output is too large, or tensors on different
    /// devices.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> Linear<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ShapeMath.RequireRank(nameof(weight), weight.ShapeSpan, 2, "[out_features, in_features]");
        int outFeatures = weight.ShapeArray[0], inFeatures = weight.ShapeArray[1];
        if (input.Rank < 1 || input.ShapeArray[^1] != inFeatures)
            throw new ArgumentException(
                $"input: expected shape [..., {inFeatures}] to match weight {ShapeMath.Format(weight.ShapeSpan)}, got {ShapeMath.Format(input.ShapeSpan)}.", nameof(input));
        OpArgs.RequireChannelVector(nameof(bias), bias, outFeatures);

        int rows = inFeatures == 0 ? ShapeMath.Numel(input.ShapeSpan[..^1]) : input.Numel / inFeatures;
        OpArgs.ElementCount(nameof(input), $"the output [rows of input, out_features] = [{rows}, {outFeatures}]", rows, outFeatures);
        var outShape = input.Shape;
        outShape[^1] = outFeatures;
        RequireSameDevice(nameof(weight), input, weight);
        RequireSameDevice(nameof(bias), input, bias);
        var parameters = new LinearParams(rows, inFeatures, outFeatures);
        var backend = OperatorBackends.For<ILinearBackend>(input.Device, "Linear");
        var output = backend.Linear(parameters, input, weight, bias).View(outShape);
        return Autograd.Record(output, "Linear", (grad, needs) => backend.LinearBackward(parameters, grad, input, weight, bias, needs),
            input, weight, bias);
    }
}

namespace DeformEngine;

/// <summary>The Gaussian error linear unit in its exact form (PyTorch's default, approximate='none'):
/// y = x·Φ(x) = x·(1 + erf(x/√2))/2 elementwise. Gradient: ∂L/∂x = ∂L/∂y·(Φ(x) + x·φ(x)),
/// φ(x) = e^(−x²/2)/√(2π).</summary>
public static partial class Functional
{
    /// <summary>y = x·Φ(x) = x·(1 + erf(x/√2))/2 elementwise (exact GELU).</summary>
    /// <param name="input">Any shape.</param>
    /// <returns>A tensor of the input's shape.</returns>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> Gelu<T>(Tensor<T> input) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        var backend = OperatorBackends.For<IGeluBackend>(input.Device, "Gelu");
        var output = backend.Gelu(input);
        return Autograd.Record(output, "Gelu", (grad, _) => [backend.GeluBackward(grad, input)], input);
    }
}

namespace DeformEngine;

/// <summary>Layer normalisation over the last dimension (PyTorch's layer_norm with normalized_shape = [C], the
/// channels-last norm of InternImage and DCNv4): per row of C values, y = γ·x̂ + β with
/// x̂ = (x − μ)/√(σ² + ε), μ and σ² the row's mean and biased variance.
/// Gradients: ∂L/∂x = (1/√(σ² + ε))·(h − mean(h) − x̂·mean(h·x̂)) with h = γ·∂L/∂y; ∂L/∂γ = Σ_rows ∂L/∂y·x̂;
/// ∂L/∂β = Σ_rows ∂L/∂y.</summary>
public static partial class Functional
{
    /// <summary>y = γ·(x − μ)/√(σ² + ε) + β over the last dimension of each row.</summary>
    /// <param name="input">[..., C].</param>
    /// <param name="weight">[C] scale γ, or null for 1.</param>
    /// <param name="bias">[C] shift β, or null for 0.</param>
    /// <param name="eps">ε added to the variance, finite and ≥ 0.</param>
    /// <returns>A tensor of the input's shape.</returns>
    /// <exception cref="ArgumentException">The input has no last dimension, a vector is not [C], or tensors on
    /// different devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eps"/> is negative or not finite.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> LayerNorm<T>(Tensor<T> input, Tensor<T>? weight = null, Tensor<T>? bias = null, double eps = 1e-5)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 1 || input.ShapeArray[^1] < 1)
            throw new ArgumentException(
                $"input: expected a tensor [..., C] with C ≥ 1 features in its last dimension, got shape {ShapeMath.Format(input.ShapeSpan)}.", nameof(input));
        int features = input.ShapeArray[^1];
        OpArgs.RequireChannelVector(nameof(weight), weight, features);
        OpArgs.RequireChannelVector(nameof(bias), bias, features);
        if (!(eps >= 0 && double.IsFinite(eps)))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, $"eps: expected a finite value ≥ 0, got {eps}.");
        RequireSameDevice(nameof(weight), input, weight);
        RequireSameDevice(nameof(bias), input, bias);
        var parameters = new LayerNormParams(input.Numel / features, features, eps);
        var backend = OperatorBackends.For<ILayerNormBackend>(input.Device, "LayerNorm");
        var (output, saved) = backend.LayerNorm(parameters, input, weight, bias);
        return Autograd.Record(output, "LayerNorm", (grad, needs) => backend.LayerNormBackward(parameters, grad, input, weight, saved, needs),
            input, weight, bias);
    }
}

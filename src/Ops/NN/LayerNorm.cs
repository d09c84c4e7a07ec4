namespace DeformEngine.NN;

/// <summary>Layer normalisation over the last dimension of [..., C] with PyTorch's state: <c>weight</c> (γ, init 1)
/// and <c>bias</c> (β, init 0) when <c>elementwiseAffine</c>.</summary>
public sealed class LayerNorm<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A layer normalisation of <paramref name="features"/> channels with γ = 1 and β = 0.</summary>
    /// <param name="features">C, the size of the input's last dimension.</param>
    /// <param name="eps">ε added to the variance, finite and ≥ 0.</param>
    /// <param name="elementwiseAffine">Learn γ (<c>weight</c>) and β (<c>bias</c>).</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive <paramref name="features"/>, or
    /// <paramref name="eps"/> out of range.</exception>
    public LayerNorm(int features, double eps = 1e-5, bool elementwiseAffine = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(features);
        if (!(eps >= 0 && double.IsFinite(eps)))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, $"eps: expected a finite value ≥ 0, got {eps}.");
        Features = features;
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = RegisterParameter("weight", Tensor<T>.Ones(features));
            Bias = RegisterParameter("bias", Tensor<T>.Zeros(features));
        }
    }

    /// <summary>C, the size of the normalised last dimension.</summary>
    public int Features { get; }
    /// <summary>ε added to the variance.</summary>
    public double Eps { get; }
    /// <summary>γ [C] (<c>weight</c>), or null without elementwise affine.</summary>
    public Parameter<T>? Weight { get; }
    /// <summary>β [C] (<c>bias</c>), or null without elementwise affine.</summary>
    public Parameter<T>? Bias { get; }

    /// <summary>[..., C] → [..., C]; see <see cref="Functional.LayerNorm{T}"/>.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => Functional.LayerNorm(input, Weight?.Value, Bias?.Value, Eps);
}

/// <summary>The exact GELU, x·Φ(x) (PyTorch's nn.GELU()).</summary>
public sealed class Gelu<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>x·Φ(x) elementwise; any shape.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => Functional.Gelu(input);
}

/// <summary>[N, C, H, W] → [N, H, W, C] (InternImage's <c>to_channels_last</c>); it holds no state but takes an
/// index in a <see cref="Sequential{T}"/>, so the names around it match PyTorch's.</summary>
public sealed class ToChannelsLast<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>[N, C, H, W] → [N, H, W, C] (a permuted copy).</summary>
    /// <exception cref="ArgumentException">The input is not 4-D.</exception>
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        return input.Permute(0, 2, 3, 1);
    }
}

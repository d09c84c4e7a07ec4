namespace DeformEngine.NN;

/// <summary>Layer normalisation over the last dimension of [..., C] with PyTorch's state: <c>weight</c> (γ, init 1)
/// and <c>bias</c> (β, init 0) when <c>elementwiseAffine</c>.</summary>
public sealed class LayerNorm<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
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

    public int Features { get; }
    public double Eps { get; }
    public Parameter<T>? Weight { get; }
    public Parameter<T>? Bias { get; }

    public override Tensor<T> Forward(Tensor<T> input) => Functional.LayerNorm(input, Weight?.Value, Bias?.Value, Eps);
}

/// <summary>The exact GELU, x·Φ(x) (PyTorch's nn.GELU()).</summary>
public sealed class Gelu<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override Tensor<T> Forward(Tensor<T> input) => Functional.Gelu(input);
}

/// <summary>[N, C, H, W] → [N, H, W, C] (InternImage's <c>to_channels_last</c>); it holds no state but takes an
/// index in a <see cref="Sequential{T}"/>, so the names around it match PyTorch's.</summary>
public sealed class ToChannelsLast<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public override Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        return input.Permute(0, 2, 3, 1);
    }
}

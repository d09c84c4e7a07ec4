namespace DeformEngine.NN;

/// <summary>A learnable tensor of a module: a leaf that requires a gradient. Optimizers update it in
/// place through <see cref="AsSpan"/>; it converts implicitly to its tensor, so it can be passed to
/// any <see cref="Functional"/> operator.</summary>
public sealed class Parameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Wraps <paramref name="value"/> (detached first when it has a history, like
    /// <c>torch.nn.Parameter</c>) and marks it as requiring a gradient.</summary>
    public Parameter(Tensor<T> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Value = value.IsLeaf ? value : value.Detach();
        Value.RequiresGrad = true;
    }

    public Tensor<T> Value { get; }

    public Tensor<T>? Grad => Value.Grad;

    public int[] Shape => Value.Shape;

    public int Numel => Value.Numel;

    /// <summary>The data, for in-place updates that are not recorded.</summary>
    public Span<T> AsSpan() => Value.AsSpan();

    public void ZeroGrad() => Value.ZeroGrad();

    public static implicit operator Tensor<T>(Parameter<T> parameter) => parameter.Value;

    public override string ToString() => $"Parameter {Value}";
}

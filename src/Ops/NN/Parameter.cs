namespace DeformEngine.NN;

/// <summary>A learnable tensor of a module: a leaf that requires a gradient. Optimizers overwrite it in
/// place on whatever device it lives; it converts implicitly to its tensor, so it can be passed to any
/// <see cref="Functional"/> operator.</summary>
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

    /// <summary>The tensor; <see cref="Module{T}.To"/> replaces it with a leaf on the new device.</summary>
    public Tensor<T> Value { get; private set; }

    /// <summary>The gradient accumulated by the last backward passes, or null.</summary>
    public Tensor<T>? Grad => Value.Grad;

    /// <summary>The dimensions (a copy).</summary>
    public int[] Shape => Value.Shape;

    /// <summary>Number of elements.</summary>
    public int Numel => Value.Numel;

    /// <summary>The data, for in-place updates that are not recorded.</summary>
    public Span<T> AsSpan() => Value.AsSpan();

    /// <summary>Drops the accumulated gradient.</summary>
    public void ZeroGrad() => Value.ZeroGrad();

    /// <summary>Replaces the value by a copy on <paramref name="device"/> (a leaf requiring a gradient),
    /// and moves the gradient along.</summary>
    internal void MoveTo(Device device)
    {
        if (ReferenceEquals(Value.Device, device)) return;
        var grad = Value.Grad;
        var moved = Value.Detach().To(device).Detach();
        moved.RequiresGrad = true;
        if (grad is not null) moved.Grad = grad.Detach().To(device).Detach();
        Value = moved;
    }

    /// <summary>The parameter's <see cref="Value"/>, so that a parameter can be passed where a tensor is
    /// expected.</summary>
    public static implicit operator Tensor<T>(Parameter<T> parameter) => parameter.Value;

    /// <summary>"Parameter" and the tensor's description, for debugging.</summary>
    public override string ToString() => $"Parameter {Value}";
}

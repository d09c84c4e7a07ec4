namespace DeformEngine.NN;

/// <summary>A (height, width) pair for kernel sizes, strides, paddings and dilations; an int means
/// the same value for both, as in PyTorch (<c>kernelSize: 3</c> or <c>kernelSize: (3, 5)</c>).</summary>
public readonly record struct Size2(int H, int W)
{
    /// <summary>(value, value).</summary>
    public static implicit operator Size2(int value) => new(value, value);

    /// <summary>(H, W) from a tuple.</summary>
    public static implicit operator Size2((int H, int W) value) => new(value.H, value.W);

    /// <summary>The (H, W) tuple, as the <see cref="Functional"/> operators take it.</summary>
    public static implicit operator (int H, int W)(Size2 value) => (value.H, value.W);

    /// <summary>"3" when both sizes are 3, else "(3, 5)".</summary>
    public override string ToString() => H == W ? $"{H}" : $"({H}, {W})";
}

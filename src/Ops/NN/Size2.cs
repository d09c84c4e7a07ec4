namespace DeformEngine.NN;

/// <summary>A (height, width) pair for kernel sizes, strides, paddings and dilations; an int means
/// the same value for both, as in PyTorch (<c>kernelSize: 3</c> or <c>kernelSize: (3, 5)</c>).</summary>
public readonly record struct Size2(int H, int W)
{
    public static implicit operator Size2(int value) => new(value, value);

    public static implicit operator Size2((int H, int W) value) => new(value.H, value.W);

    public static implicit operator (int H, int W)(Size2 value) => (value.H, value.W);

    public override string ToString() => H == W ? $"{H}" : $"({H}, {W})";
}

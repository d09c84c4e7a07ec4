namespace DeformEngine.NN;

/// <summary>Max pooling; the stride defaults to the kernel size, as in PyTorch.</summary>
public sealed class MaxPool2d<T>(Size2 kernelSize, Size2? stride = null, Size2? padding = null) : Module<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;

    public override Tensor<T> Forward(Tensor<T> input) => Functional.MaxPool2d(input, KernelSize, Stride, Padding);
}

/// <summary>Average pooling; the stride defaults to the kernel size, as in PyTorch.</summary>
public sealed class AvgPool2d<T>(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool countIncludePad = true) : Module<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public Size2 KernelSize { get; } = kernelSize;
    public Size2 Stride { get; } = stride ?? kernelSize;
    public Size2 Padding { get; } = padding ?? 0;
    public bool CountIncludePad { get; } = countIncludePad;

    public override Tensor<T> Forward(Tensor<T> input) => Functional.AvgPool2d(input, KernelSize, Stride, Padding, CountIncludePad);
}

/// <summary>Average pooling to a fixed output size (1 for global average pooling).</summary>
public sealed class AdaptiveAvgPool2d<T>(Size2 outputSize) : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public Size2 OutputSize { get; } = outputSize;

    public override Tensor<T> Forward(Tensor<T> input) => Functional.AdaptiveAvgPool2d(input, OutputSize);
}

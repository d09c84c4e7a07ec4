namespace DeformEngine.NN;

/// <summary>Max pooling; the stride defaults to the kernel size, as in PyTorch.</summary>
public sealed class MaxPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null)
    {
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding ?? 0;
        OpArgs.RequirePoolWindow(KernelSize, Stride, Padding);
    }

    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public Size2 Padding { get; }

    public override Tensor<T> Forward(Tensor<T> input) => Functional.MaxPool2d(input, KernelSize, Stride, Padding);
}

/// <summary>Average pooling; the stride defaults to the kernel size, as in PyTorch.</summary>
public sealed class AvgPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public AvgPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool countIncludePad = true)
    {
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding ?? 0;
        CountIncludePad = countIncludePad;
        OpArgs.RequirePoolWindow(KernelSize, Stride, Padding);
    }

    public Size2 KernelSize { get; }
    public Size2 Stride { get; }
    public Size2 Padding { get; }
    public bool CountIncludePad { get; }

    public override Tensor<T> Forward(Tensor<T> input) => Functional.AvgPool2d(input, KernelSize, Stride, Padding, CountIncludePad);
}

/// <summary>Average pooling to a fixed output size (1 for global average pooling).</summary>
public sealed class AdaptiveAvgPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public AdaptiveAvgPool2d(Size2 outputSize)
    {
        OpArgs.RequirePositive(nameof(outputSize), outputSize);
        OutputSize = outputSize;
    }

    public Size2 OutputSize { get; }

    public override Tensor<T> Forward(Tensor<T> input) => Functional.AdaptiveAvgPool2d(input, OutputSize);
}

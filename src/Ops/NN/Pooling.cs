namespace DeformEngine.NN;

/// <summary>Max pooling; the stride defaults to the kernel size, as in PyTorch.</summary>
public sealed class MaxPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A max pooling with windows of <paramref name="kernelSize"/>.</summary>
    /// <param name="kernelSize">(kH, kW), or one int for both.</param>
    /// <param name="stride">Null for the kernel size.</param>
    /// <param name="padding">At most half the kernel; null for 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive kernel size or stride, or padding outside [0,
    /// kernel/2].</exception>
    public MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null)
    {
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding ?? 0;
        OpArgs.RequirePoolWindow(KernelSize, Stride, Padding);
    }

    /// <summary>(kH, kW).</summary>
    public Size2 KernelSize { get; }
    /// <summary>(sH, sW).</summary>
    public Size2 Stride { get; }
    /// <summary>Padding on each side (pH, pW), reading −∞.</summary>
    public Size2 Padding { get; }

    /// <summary>[N, C, H, W] → [N, C, OutH, OutW]; see <see cref="Functional.MaxPool2d{T}"/>.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => Functional.MaxPool2d(input, KernelSize, Stride, Padding);
}

/// <summary>Average pooling; the stride defaults to the kernel size, as in PyTorch.</summary>
public sealed class AvgPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An average pooling with windows of <paramref name="kernelSize"/>.</summary>
    /// <param name="kernelSize">(kH, kW), or one int for both.</param>
    /// <param name="stride">Null for the kernel size.</param>
    /// <param name="padding">At most half the kernel; null for 0.</param>
    /// <param name="countIncludePad">Divide by kH·kW (true) or by the window positions inside the input
    /// (false).</param>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive kernel size or stride, or padding outside [0,
    /// kernel/2].</exception>
    public AvgPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool countIncludePad = true)
    {
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding ?? 0;
        CountIncludePad = countIncludePad;
        OpArgs.RequirePoolWindow(KernelSize, Stride, Padding);
    }

    /// <summary>(kH, kW).</summary>
    public Size2 KernelSize { get; }
    /// <summary>(sH, sW).</summary>
    public Size2 Stride { get; }
    /// <summary>Padding on each side (pH, pW), reading 0.</summary>
    public Size2 Padding { get; }
    /// <summary>Whether padded positions count in the divisor (kH·kW) or not.</summary>
    public bool CountIncludePad { get; }

    /// <summary>[N, C, H, W] → [N, C, OutH, OutW]; see <see cref="Functional.AvgPool2d{T}"/>.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => Functional.AvgPool2d(input, KernelSize, Stride, Padding, CountIncludePad);
}

/// <summary>Average pooling to a fixed output size (1 for global average pooling).</summary>
public sealed class AdaptiveAvgPool2d<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>An adaptive average pooling to <paramref name="outputSize"/> (1 for global average pooling).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive output size.</exception>
    public AdaptiveAvgPool2d(Size2 outputSize)
    {
        OpArgs.RequirePositive(nameof(outputSize), outputSize);
        OutputSize = outputSize;
    }

    /// <summary>(outH, outW).</summary>
    public Size2 OutputSize { get; }

    /// <summary>[N, C, H, W] → [N, C, outH, outW]; see <see cref="Functional.AdaptiveAvgPool2d{T}"/>.</summary>
    public override Tensor<T> Forward(Tensor<T> input) => Functional.AdaptiveAvgPool2d(input, OutputSize);
}

namespace DeformEngine.Gpu;

/// <summary>A kernel that ILGPU could not compile (or load) for a device: the kernel, the precision and the device
/// are named, ILGPU's reason is the inner exception.</summary>
public sealed class GpuKernelCompilationException : Exception
{
    /// <summary>The failure of kernel <paramref name="kernel"/> of class <paramref name="owner"/> in precision
    /// <paramref name="element"/> on <paramref name="target"/>.</summary>
    /// <param name="owner">The class that holds the kernel method.</param>
    /// <param name="kernel">The kernel method's name.</param>
    /// <param name="element">The element type the kernel was specialised for (float or double).</param>
    /// <param name="target">The device (or code generator) that refused it.</param>
    /// <param name="inner">ILGPU's exception.</param>
    public GpuKernelCompilationException(Type owner, string kernel, Type element, string target, Exception inner)
        : base($"Kernel '{owner.Name}.{kernel}' ({element.Name}) could not be compiled for '{target}': {inner.Message}", inner)
    {
        KernelName = $"{owner.Name}.{kernel}";
        Target = target;
    }

    /// <summary>The kernel as <c>Class.Method</c>, e.g. <c>DeformConv2dGpuKernels.DeformIm2Col</c>.</summary>
    public string KernelName { get; }

    /// <summary>The device (or code generator, for a compile without a device) that refused it.</summary>
    public string Target { get; }
}

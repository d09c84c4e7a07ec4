namespace DeformEngine.Gpu;

/// <summary>A compiled kernel source (an OpenCL program or a CUDA module) in one precision.</summary>
public sealed class GpuProgram
{
    internal GpuProgram(GpuContext context, string sourceName, string source, GpuPrecision precision, nint handle)
    {
        Context = context;
        SourceName = sourceName;
        Source = source;
        Precision = precision;
        Handle = handle;
    }

    public GpuContext Context { get; }

    public string SourceName { get; }

    public GpuPrecision Precision { get; }

    /// <summary>The kernel text without the header, kept to refuse a different text under the same name.</summary>
    internal string Source { get; }

    internal nint Handle { get; }

    internal Dictionary<string, GpuKernel> Kernels { get; } = [];

    /// <summary>The kernel called <paramref name="name"/>, created once and then reused.</summary>
    public GpuKernel GetKernel(string name) => Context.GetKernel(this, name);
}

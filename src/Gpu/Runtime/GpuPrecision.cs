namespace DeformEngine.Gpu;

/// <summary>What the <c>real</c> type of a kernel source means when it is compiled.</summary>
public enum GpuPrecision
{
    Single,
    Double,
}

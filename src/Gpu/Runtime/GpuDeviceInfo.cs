namespace DeformEngine.Gpu;

/// <summary>One device as a backend reports it.</summary>
/// <param name="Backend">The runtime that reports the device.</param>
/// <param name="Index">The index to pass to <see cref="GpuContext.Open"/>.</param>
/// <param name="Name">The device name.</param>
/// <param name="Vendor">The device vendor.</param>
/// <param name="MemoryBytes">Global memory in bytes.</param>
/// <param name="SupportsDouble">Double arithmetic and the 64-bit atomics the double atomic add needs.</param>
public sealed record GpuDeviceInfo(GpuBackend Backend, int Index, string Name, string Vendor, long MemoryBytes, bool SupportsDouble);

namespace DeformEngine.Gpu;

/// <summary>
/// One kernel argument by value: a device buffer or a scalar. The implicit conversions let a
/// launch be written as <c>kernel.Launch(n, [x, y, 2f, n])</c>; the C# type chosen must match
/// the kernel parameter's (<c>int</c>, <c>long</c>, <c>float</c>, <c>double</c>).
/// </summary>
public readonly struct KernelArg
{
    private KernelArg(GpuBuffer? buffer, long bits, int size)
    {
        Buffer = buffer;
        Bits = bits;
        Size = size;
    }

    internal GpuBuffer? Buffer { get; }

    /// <summary>The scalar's bytes, little-endian in the low <see cref="Size"/> bytes.</summary>
    internal long Bits { get; }

    internal int Size { get; }

    public static implicit operator KernelArg(GpuBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return new KernelArg(buffer, 0, IntPtr.Size);
    }

    public static implicit operator KernelArg(int value) => new(null, value, sizeof(int));

    public static implicit operator KernelArg(long value) => new(null, value, sizeof(long));

    public static implicit operator KernelArg(float value) => new(null, BitConverter.SingleToInt32Bits(value), sizeof(float));

    public static implicit operator KernelArg(double value) => new(null, BitConverter.DoubleToInt64Bits(value), sizeof(double));
}

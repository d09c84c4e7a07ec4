using DeformEngine.Gpu;

namespace DeformEngine.Tests.Gpu;

/// <summary>
/// Opens the backend a data row names, or ends the test as inconclusive with the reason, so a
/// machine without that runtime reports the test as skipped rather than passed.
/// </summary>
internal static class GpuTestBackends
{
    public static GpuBackend Parse(string backendName) => backendName switch
    {
        "OpenCL" => GpuBackend.OpenCL,
        "CUDA" => GpuBackend.Cuda,
        _ => throw new ArgumentOutOfRangeException(nameof(backendName), backendName, "expected OpenCL or CUDA"),
    };

    public static GpuContext Open(string backendName)
    {
        try
        {
            return GpuContext.Open(Parse(backendName));
        }
        catch (NotSupportedException e)
        {
            throw new AssertInconclusiveException($"no {backendName} device: {e.Message}");
        }
    }

    /// <summary>Like <see cref="Open"/>, and inconclusive too when the device lacks double kernels.</summary>
    public static GpuContext Open(string backendName, GpuPrecision precision)
    {
        GpuContext context = Open(backendName);
        if (precision == GpuPrecision.Double && !context.SupportsDouble)
        {
            context.Dispose();
            Assert.Inconclusive($"{backendName} device '{context.Name}' has no double-precision support");
        }
        return context;
    }

    /// <summary>Uploads host data into a new buffer of exactly its size.</summary>
    public static unsafe GpuBuffer ToDevice<T>(this GpuContext context, ReadOnlySpan<T> data) where T : unmanaged
    {
        GpuBuffer buffer = context.Allocate((long)Math.Max(data.Length, 1) * sizeof(T));
        context.Upload(buffer, data);
        return buffer;
    }

    public static T[] ToHost<T>(this GpuContext context, GpuBuffer buffer, int count) where T : unmanaged
    {
        var data = new T[count];
        context.Download(buffer, data.AsSpan());
        return data;
    }
}

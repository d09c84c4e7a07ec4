using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>
/// One device of one backend: memory, compiled programs and launches, all in issue order.
/// The public members check arguments and ownership here once; the backends only talk to the
/// native runtime. Safe to use from several threads; not safe to dispose while in use.
/// </summary>
public abstract class GpuContext : IDisposable
{
    private readonly Lock gate = new();
    private readonly Dictionary<(string SourceName, GpuPrecision Precision), GpuProgram> programs = [];
    private readonly HashSet<GpuBuffer> buffers = [];
    private bool disposed;

    private protected GpuContext()
    {
    }

    public abstract GpuBackend Backend { get; }

    /// <summary>The device name as the runtime reports it.</summary>
    public abstract string Name { get; }

    /// <summary>Whether <see cref="GpuPrecision.Double"/> programs (arithmetic and atomics) can run.</summary>
    public abstract bool SupportsDouble { get; }

    /// <summary>The largest local (work-group, block) size the device accepts.</summary>
    public abstract int MaxLocalSize { get; }

    public static GpuContext Open(GpuBackend backend, int index = 0) => backend switch
    {
        GpuBackend.OpenCL => OpenCLContext.Open(index),
        GpuBackend.Cuda => CudaContext.Open(index),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "unknown backend"),
    };

    /// <summary>The devices of a backend; empty, never throwing, when its runtime is absent.</summary>
    public static IReadOnlyList<GpuDeviceInfo> ListDevices(GpuBackend backend) => backend switch
    {
        GpuBackend.OpenCL => OpenCLContext.ListDevices(),
        GpuBackend.Cuda => CudaContext.ListDevices(),
        _ => throw new ArgumentOutOfRangeException(nameof(backend), backend, "unknown backend"),
    };

    public GpuBuffer Allocate(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        lock (gate)
        {
            ThrowIfDisposed();
            var buffer = new GpuBuffer(this, AllocateCore(bytes), bytes);
            buffers.Add(buffer);
            return buffer;
        }
    }

    /// <summary>Copies host data into <paramref name="destination"/> at <paramref name="byteOffset"/>; returns when the host span may be reused.</summary>
    public unsafe void Upload<T>(GpuBuffer destination, ReadOnlySpan<T> source, long byteOffset = 0) where T : unmanaged
    {
        long bytes = CheckRange(destination, byteOffset, (long)source.Length * sizeof(T), nameof(source));
        if (bytes == 0)
            return;
        fixed (T* pointer = source)
            UploadCore(destination.Handle, byteOffset, pointer, bytes);
    }

    /// <summary>Copies device data at <paramref name="byteOffset"/> into host memory, after all work issued before it.</summary>
    public unsafe void Download<T>(GpuBuffer source, Span<T> destination, long byteOffset = 0) where T : unmanaged
    {
        long bytes = CheckRange(source, byteOffset, (long)destination.Length * sizeof(T), nameof(destination));
        if (bytes == 0)
            return;
        fixed (T* pointer = destination)
            DownloadCore(source.Handle, byteOffset, pointer, bytes);
    }

    /// <summary>Sets every byte of <paramref name="buffer"/> to zero (which is 0.0 in float and double).</summary>
    public void Zero(GpuBuffer buffer)
    {
        CheckOwned(buffer, nameof(buffer));
        ZeroCore(buffer.Handle, buffer.Bytes);
    }

    /// <summary>Copies the first <paramref name="bytes"/> bytes of one buffer into another on the device.</summary>
    public void Copy(GpuBuffer source, GpuBuffer destination, long bytes)
    {
        CheckRange(source, 0, bytes, nameof(bytes));
        CheckRange(destination, 0, bytes, nameof(bytes));
        if (bytes > 0)
            CopyCore(source.Handle, destination.Handle, bytes);
    }

    /// <summary>
    /// Compiles the common macro header for this backend and <paramref name="precision"/>
    /// followed by <paramref name="source"/>. Cached per (name, precision): the same source in
    /// float and in double are two programs; a different text under a used name is refused.
    /// </summary>
    public GpuProgram Compile(string sourceName, string source, GpuPrecision precision = GpuPrecision.Single)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sourceName);
        ArgumentNullException.ThrowIfNull(source);
        if (precision == GpuPrecision.Double && !SupportsDouble)
            throw new NotSupportedException($"{Backend} device '{Name}' cannot run double-precision kernels.");
        lock (gate)
        {
            ThrowIfDisposed();
            if (programs.TryGetValue((sourceName, precision), out GpuProgram? cached))
            {
                return cached.Source == source
                    ? cached
                    : throw new ArgumentException($"A different source was already compiled as '{sourceName}'.", nameof(source));
            }
            string text = KernelHeader.Compose(Backend, precision, sourceName, source);
            var program = new GpuProgram(this, sourceName, source, precision, CompileCore(sourceName, text));
            programs.Add((sourceName, precision), program);
            return program;
        }
    }

    /// <summary>Waits until all work issued so far has finished; surfaces errors of earlier launches.</summary>
    public void Synchronize()
    {
        ThrowIfDisposed();
        SynchronizeCore();
    }

    public void Dispose()
    {
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
            foreach (GpuBuffer buffer in buffers)
            {
                buffer.IsDisposed = true;
                FreeCore(buffer.Handle);
            }
            buffers.Clear();
            foreach (GpuProgram program in programs.Values)
            {
                foreach (GpuKernel kernel in program.Kernels.Values)
                    ReleaseKernelCore(kernel.Handle);
                ReleaseProgramCore(program.Handle);
            }
            programs.Clear();
            ReleaseContextCore();
        }
    }

    public override string ToString() => $"{Backend}: {Name}";

    internal void Free(GpuBuffer buffer)
    {
        lock (gate)
        {
            // A buffer disposed after its context was already freed by the context.
            if (buffer.IsDisposed || disposed)
                return;
            buffer.IsDisposed = true;
            buffers.Remove(buffer);
            FreeCore(buffer.Handle);
        }
    }

    internal GpuKernel GetKernel(GpuProgram program, string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        lock (gate)
        {
            ThrowIfDisposed();
            if (!program.Kernels.TryGetValue(name, out GpuKernel? kernel))
            {
                kernel = new GpuKernel(program, name, CreateKernelCore(program.Handle, name));
                program.Kernels.Add(name, kernel);
            }
            return kernel;
        }
    }

    internal void Launch(GpuKernel kernel, long globalSize, ReadOnlySpan<KernelArg> arguments, int localSize)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(globalSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(localSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(localSize, MaxLocalSize);
        long groups = (globalSize + localSize - 1) / localSize;
        // CUDA's grid x-dimension is limited to 2^31 - 1 blocks; OpenCL is held to the same.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(groups, int.MaxValue, nameof(globalSize));
        for (int i = 0; i < arguments.Length; i++)
        {
            if (arguments[i].Buffer is { } buffer)
                CheckOwned(buffer, $"arguments[{i}]");
            else if (arguments[i].Size == 0)
                throw new ArgumentException($"Argument {i} of '{kernel.Name}' is unset (default KernelArg).", nameof(arguments));
        }
        if (groups > 0)
            LaunchCore(kernel, (int)groups, localSize, arguments);
    }

    private protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    private void CheckOwned(GpuBuffer buffer, string argumentName)
    {
        ArgumentNullException.ThrowIfNull(buffer, argumentName);
        ThrowIfDisposed();
        ObjectDisposedException.ThrowIf(buffer.IsDisposed, buffer);
        if (buffer.Context != this)
            throw new ArgumentException($"The buffer belongs to another context ({buffer.Context}), not to {this}.", argumentName);
    }

    private long CheckRange(GpuBuffer buffer, long byteOffset, long bytes, string argumentName)
    {
        CheckOwned(buffer, nameof(buffer));
        ArgumentOutOfRangeException.ThrowIfNegative(byteOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes, argumentName);
        if (byteOffset + bytes > buffer.Bytes)
            throw new ArgumentOutOfRangeException(argumentName,
                $"{bytes} bytes at offset {byteOffset} do not fit in a buffer of {buffer.Bytes} bytes.");
        return bytes;
    }

    private protected abstract nint AllocateCore(long bytes);

    private protected abstract void FreeCore(nint buffer);

    private protected abstract unsafe void UploadCore(nint destination, long byteOffset, void* source, long bytes);

    private protected abstract unsafe void DownloadCore(nint source, long byteOffset, void* destination, long bytes);

    private protected abstract void ZeroCore(nint buffer, long bytes);

    private protected abstract void CopyCore(nint source, nint destination, long bytes);

    /// <summary>Builds the complete text (header included); throws with the build log on failure.</summary>
    private protected abstract nint CompileCore(string sourceName, string text);

    private protected abstract void ReleaseProgramCore(nint program);

    private protected abstract nint CreateKernelCore(nint program, string name);

    private protected abstract void ReleaseKernelCore(nint kernel);

    private protected abstract void LaunchCore(GpuKernel kernel, int groups, int localSize, ReadOnlySpan<KernelArg> arguments);

    private protected abstract void SynchronizeCore();

    private protected abstract void ReleaseContextCore();
}

using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Runtime;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>
/// Typed kernel launches. A kernel is a <c>public static void</c> method of a <c>…GpuKernels</c> class, generic in
/// the element type T and its <see cref="IDeviceReal{T}"/>; the launch names it (owner type and <c>nameof</c>) and
/// gives its arguments with their types, which ILGPU checks against the method once, when it compiles the kernel
/// for this device and precision. Compiled kernels are cached for the device's lifetime.
/// </summary>
public abstract partial class GpuDevice
{
    private readonly Dictionary<(Type Owner, string Name, Type Element), Delegate> _kernels = [];

    /// <summary>The kernels this device has compiled so far, as (owner type, method name, element type).</summary>
    internal IReadOnlyList<(Type Owner, string Name, Type Element)> LoadedKernels
    {
        get
        {
            lock (_kernels)
                return [.. _kernels.Keys];
        }
    }

    internal void Launch<T, A1>(KernelConfig config, Type owner, string name, A1 a1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1>>(owner, name);
        Run(() => launch(Stream, config, a1));
    }

    internal void Launch<T, A1, A2>(KernelConfig config, Type owner, string name, A1 a1, A2 a2)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2>>(owner, name);
        Run(() => launch(Stream, config, a1, a2));
    }

    internal void Launch<T, A1, A2, A3>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3));
    }

    internal void Launch<T, A1, A2, A3, A4>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3, A4 a4)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3, A4>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3, a4));
    }

    internal void Launch<T, A1, A2, A3, A4, A5>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3, A4, A5>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3, a4, a5));
    }

    internal void Launch<T, A1, A2, A3, A4, A5, A6>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3, A4, A5, A6>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3, a4, a5, a6));
    }

    internal void Launch<T, A1, A2, A3, A4, A5, A6, A7>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3, A4, A5, A6, A7>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3, a4, a5, a6, a7));
    }

    internal void Launch<T, A1, A2, A3, A4, A5, A6, A7, A8>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3, A4, A5, A6, A7, A8>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3, a4, a5, a6, a7, a8));
    }

    internal void Launch<T, A1, A2, A3, A4, A5, A6, A7, A8, A9>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3, A4, A5, A6, A7, A8, A9>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3, a4, a5, a6, a7, a8, a9));
    }

    internal void Launch<T, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9, A10 a10)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10));
    }

    internal void Launch<T, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11>(KernelConfig config, Type owner, string name, A1 a1, A2 a2, A3 a3, A4 a4, A5 a5, A6 a6, A7 a7, A8 a8, A9 a9, A10 a10, A11 a11)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var launch = Load<T, Action<AcceleratorStream, KernelConfig, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11>>(owner, name);
        Run(() => launch(Stream, config, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11));
    }

    /// <summary>The launcher of kernel <paramref name="owner"/>.<paramref name="name"/> for <typeparamref name="T"/>,
    /// compiled on first use.</summary>
    /// <exception cref="GpuKernelCompilationException">ILGPU cannot compile the kernel for this device.</exception>
    private TLauncher Load<T, TLauncher>(Type owner, string name)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TLauncher : Delegate
    {
        ThrowIfWrongPrecision<T>();
        var key = (owner, name, typeof(T));
        lock (_kernels)
        {
            if (_kernels.TryGetValue(key, out Delegate? cached)) return (TLauncher)cached;
        }
        TLauncher? launcher = null;
        try
        {
            MethodInfo method = GpuKernelMethods.Instantiate(owner, name, typeof(T));
            lock (GpuRuntime.CompileGate)
            {
                try
                {
                    Run(() => launcher = Accelerator.LoadKernel(Accelerator.CompileKernel(EntryPointDescription.FromExplicitlyGroupedKernel(method)))
                        .CreateLauncherDelegate<TLauncher>());
                }
                catch (Exception e) when (e is not ObjectDisposedException)
                {
                    GpuRuntime.Recover(Accelerator.Context);
                    throw;
                }
            }
        }
        catch (Exception e) when (e is not (ObjectDisposedException or GpuKernelCompilationException or OutOfMemoryException))
        {
            throw new GpuKernelCompilationException(owner, name, typeof(T), Name, e);
        }
        lock (_kernels)
            _kernels[key] = launcher!;
        return launcher!;
    }
}

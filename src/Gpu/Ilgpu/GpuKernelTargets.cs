using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>
/// Compiles kernels for the GPU back ends without a GPU: ILGPU generates PTX and OpenCL C on any machine. A kernel
/// that uses something a GPU back end lacks (a math function without a PTX implementation, a type that is not
/// blittable, a conversion through <c>System.Type</c>) fails here even though the CPU accelerator runs it.
/// </summary>
public static class GpuKernelTargets
{
    /// <summary>The PTX target: compute capability 8.0 (what ILGPU 1.5.3 emits for any newer GPU, an H200 included)
    /// with PTX ISA 7.0, the oldest that knows sm_80.</summary>
    public const string Ptx = "PTX sm_80";

    /// <summary>The OpenCL target: OpenCL C 2.0 with the generic address space, fp64 and 64-bit atomics (the
    /// devices ILGPU accepts).</summary>
    public const string OpenCL = "OpenCL C 2.0";

    // A context of its own, with the devices' options: what is compiled here never meets a device's kernels.
    private static readonly Lazy<Context> Context = new(() =>
    {
        NativeLibraries.Register();
        return ILGPU.Context.Create(builder => GpuRuntime.Configure(builder));
    });

    private static readonly Lazy<Backend> PtxBackend = new(() =>
        new PTXBackend(Context.Value, new CudaCapabilityContext(CudaArchitecture.SM_80), CudaArchitecture.SM_80, CudaInstructionSet.ISA_70, null!));

    private static readonly Lazy<Backend> OpenCLBackend = new(() =>
        new CLBackend(Context.Value, new CLCapabilityContext(float16: false, float64: true, genericAddressSpace: true,
            int64_Atomics: true, subGroups: false), CLDeviceVendor.Other, CLCVersion.CL20));

    /// <summary>Every kernel entry point of this library, for float and for double.</summary>
    public static IEnumerable<(Type Owner, string Name, Type Element)> Kernels() =>
        from method in GpuKernelMethods.All()
        from element in new[] { typeof(float), typeof(double) }
        select (method.DeclaringType!, method.Name, element);

    /// <summary>The generated source (PTX assembly or OpenCL C) of one kernel for <paramref name="target"/>.</summary>
    /// <exception cref="GpuKernelCompilationException">ILGPU cannot compile the kernel for the target.</exception>
    public static string Compile(Type owner, string name, Type element, string target)
    {
        MethodInfo method = GpuKernelMethods.Instantiate(owner, name, element);
        Backend backend = target switch
        {
            Ptx => PtxBackend.Value,
            OpenCL => OpenCLBackend.Value,
            _ => throw new ArgumentOutOfRangeException(nameof(target), target, $"expected {Ptx} or {OpenCL}"),
        };
        try
        {
            lock (GpuRuntime.CompileGate)
            {
                try
                {
                    CompiledKernel kernel = backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty);
                    return kernel switch
                    {
                        PTXCompiledKernel ptx => ptx.PTXAssembly,
                        CLCompiledKernel cl => cl.Source,
                        _ => throw new InvalidOperationException($"unexpected compiled kernel {kernel.GetType().Name}"),
                    };
                }
                catch
                {
                    GpuRuntime.Recover(Context.Value);
                    throw;
                }
            }
        }
        catch (Exception e) when (e is not GpuKernelCompilationException)
        {
            throw new GpuKernelCompilationException(owner, name, element, target, e);
        }
    }
}

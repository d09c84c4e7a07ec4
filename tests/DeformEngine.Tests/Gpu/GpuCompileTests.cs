using System.Diagnostics;
using DeformEngine.Gpu;
using DeformEngine.Gpu.Kernels;
using ILGPU;
using ILGPU.Runtime;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>
/// Every kernel compiled for the GPU back ends without a GPU (ILGPU writes PTX and OpenCL C on any machine), so a
/// kernel that the CPU accelerator runs but a GPU could not (a math function without a PTX implementation, a
/// conversion through System.Type, a parameter that is not blittable) fails here; and compile failures surface as
/// exceptions that name the kernel.
/// </summary>
[TestClass]
public class GpuCompileTests
{
    // Kernels of this library at the time of writing: a floor, so that a broken kernel search cannot pass empty.
    private const int MinimumKernelCount = 38;

    public static IEnumerable<object[]> Targets => [[GpuKernelTargets.Ptx], [GpuKernelTargets.OpenCL]];

    [TestMethod]
    [DynamicData(nameof(Targets))]
    public void EveryKernel_FloatAndDouble_CompilesForTarget(string target)
    {
        var kernels = GpuKernelTargets.Kernels().ToList();
        Assert.IsGreaterThanOrEqualTo(2 * MinimumKernelCount, kernels.Count, "kernels found (float and double)");
        var failures = new List<string>();
        foreach (var (owner, name, element) in kernels)
        {
            try
            {
                string text = GpuKernelTargets.Compile(owner, name, element, target);
                Assert.IsFalse(string.IsNullOrWhiteSpace(text), $"{owner.Name}.{name} {element.Name}: empty output");
                if (target == GpuKernelTargets.OpenCL) SyntaxCheckOpenCL(text, $"{owner.Name}.{name}.{element.Name}");
            }
            catch (GpuKernelCompilationException e)
            {
                failures.Add(e.Message);
            }
        }
        Assert.IsEmpty(failures, string.Join("\n", failures));
    }

    [TestMethod]
    [DynamicData(nameof(Targets))]
    public void Compile_KernelWithGenericConversion_ThrowsNamingKernel(string target)
    {
        var error = Assert.ThrowsExactly<GpuKernelCompilationException>(() =>
            GpuKernelTargets.Compile(typeof(BrokenGpuKernels), nameof(BrokenGpuKernels.GenericConversion), typeof(float), target));
        Assert.AreEqual("BrokenGpuKernels.GenericConversion", error.KernelName);
        StringAssert.Contains(error.Message, target);
    }

    [TestMethod]
    public void Launch_KernelWithNonBlittableParameter_ThrowsNamingKernelAndDevice()
    {
        var device = (GpuDevice)GpuTestDevices.Shared(TestBackends.CpuAccelerator);
        using var buffer = device.Allocate<float>(4);
        var error = Assert.ThrowsExactly<GpuKernelCompilationException>(() =>
            device.Launch<float, ArrayView<float>, bool>(device.Items(4), typeof(BrokenGpuKernels), nameof(BrokenGpuKernels.BoolParameter),
                device.View<float>(buffer), true));
        Assert.AreEqual("BrokenGpuKernels.BoolParameter", error.KernelName);
        StringAssert.Contains(error.Message, device.Name);
        CollectionAssert.AreEqual(new[] { 3f }, Tensor<float>.FromArray([1f], 1).To(device).AddScalar(2f).ToArray(), "the device stays usable");
    }

    [TestMethod]
    public void KernelMethods_EveryEntryPointIsGenericInElementAndReal()
    {
        foreach (var method in GpuKernelMethods.All())
        {
            var arguments = method.GetGenericArguments();
            StringAssert.EndsWith(method.DeclaringType!.Name, "GpuKernels");
            Assert.AreEqual(2, arguments.Length, method.Name);
            Assert.IsTrue(arguments[1].GetGenericParameterConstraints().Any(c => c.IsGenericType && c.GetGenericTypeDefinition() == typeof(IDeviceReal<>)),
                $"{method.DeclaringType.Name}.{method.Name}: R must be an IDeviceReal<T>");
        }
    }

    /// <summary>Where clang is installed (it is not needed to build or test), the generated OpenCL C must also pass
    /// its OpenCL 2.0 front end.</summary>
    private static void SyntaxCheckOpenCL(string source, string name)
    {
        string? clang = new[] { "/usr/bin/clang", "/usr/bin/clang-15", "/usr/bin/clang-14" }.FirstOrDefault(File.Exists);
        if (clang is null) return;
        string file = Path.Combine(Path.GetTempPath(), $"deformengine-{Environment.ProcessId}-{name}.cl");
        File.WriteAllText(file, source);
        try
        {
            using var process = Process.Start(new ProcessStartInfo(clang, ["-x", "cl", "-cl-std=CL2.0", "-fsyntax-only", "-Xclang", "-finclude-default-header", file])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            })!;
            string errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.AreEqual(0, process.ExitCode, $"{name}: clang rejects the generated OpenCL C:\n{errors}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}

/// <summary>Kernels that a GPU back end must refuse, to show that the compile checks can fail.</summary>
internal static class BrokenGpuKernels
{
    /// <summary>T.CreateTruncating runs on the CPU but asks for System.Type, which has no GPU form.</summary>
    public static void GenericConversion<T, R>(ArrayView<T> values, long count)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long i = Grid.GlobalIndex.X; i < count; i += (long)Grid.DimX * Group.DimX)
            values[i] = T.CreateTruncating(i);
    }

    /// <summary>bool is not blittable: no back end accepts it as a kernel parameter.</summary>
    public static void BoolParameter<T, R>(ArrayView<T> values, bool flag)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        if (flag) values[0] = T.One;
    }
}

using DeformEngine.Gpu;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Tests.Gpu;

[TestClass]
public class GpuCompileTests
{
    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Compile_UndefinedName_ThrowsWithBuildLog(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        const string broken = "KERNEL void broken(GLOBAL real* x) {\n    x[0] = undefined_name;\n}\n";
        var error = Assert.Throws<GpuException>(() => context.Compile("broken.cl", broken));
        StringAssert.Contains(error.Message, "undefined_name", "the compiler's log is in the message");
        StringAssert.Contains(error.Message, "broken.cl", "#line names the source, not the header");
        string[] expected = ["CL_BUILD_PROGRAM_FAILURE", "NVRTC_ERROR_COMPILATION"];
        CollectionAssert.Contains(expected, error.ErrorName);
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Compile_SameNameTwice_ReturnsCachedProgramPerPrecision(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend, GpuPrecision.Double);
        GpuProgram single = context.Compile(ElementwiseKernels.SourceName, ElementwiseKernels.Source);
        GpuProgram again = context.Compile(ElementwiseKernels.SourceName, ElementwiseKernels.Source, GpuPrecision.Single);
        GpuProgram @double = context.Compile(ElementwiseKernels.SourceName, ElementwiseKernels.Source, GpuPrecision.Double);
        Assert.AreSame(single, again);
        Assert.AreNotSame(single, @double);
        Assert.AreSame(single.GetKernel("axpy"), again.GetKernel("axpy"));
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Compile_OtherSourceUnderUsedName_ThrowsArgument(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        context.Compile("one.cl", "KERNEL void k(GLOBAL real* x) { x[0] = (real)1; }");
        var error = Assert.ThrowsExactly<ArgumentException>(() => context.Compile("one.cl", "KERNEL void k(GLOBAL real* x) { }"));
        StringAssert.Contains(error.Message, "one.cl");
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void GetKernel_UnknownName_ThrowsNamedError(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        GpuProgram program = context.Compile(ElementwiseKernels.SourceName, ElementwiseKernels.Source);
        var error = Assert.Throws<GpuException>(() => program.GetKernel("no_such_kernel"));
        StringAssert.Contains(error.Message, "no_such_kernel");
    }

    /// <summary>OpenCL only: CUDA takes arguments by pointer without sizes, so it cannot check them.</summary>
    [TestMethod]
    public void Launch_OpenCLWrongScalarType_ThrowsInvalidArgSize()
    {
        using GpuContext context = GpuTestBackends.Open("OpenCL");
        GpuKernel fill = context.Compile(ElementwiseKernels.SourceName, ElementwiseKernels.Source).GetKernel("fill");
        using GpuBuffer buffer = context.Allocate(16);
        var error = Assert.Throws<GpuException>(() => fill.Launch(4, [buffer, 1f, 4]));
        Assert.AreEqual("CL_INVALID_ARG_SIZE", error.ErrorName);
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void ListDevices_AnyMachine_AgreesWithOpen(string backend)
    {
        GpuBackend parsed = GpuTestBackends.Parse(backend);
        IReadOnlyList<GpuDeviceInfo> devices = GpuContext.ListDevices(parsed);
        if (devices.Count == 0)
        {
            Assert.ThrowsExactly<NotSupportedException>(() => GpuContext.Open(parsed));
            return;
        }
        using GpuContext context = GpuContext.Open(parsed);
        Assert.AreEqual(devices[0].Name, context.Name);
        Assert.AreEqual(devices[0].SupportsDouble, context.SupportsDouble);
        Assert.IsGreaterThan(0L, devices[0].MemoryBytes);
        if (context is OpenCLContext openCL)
            Assert.IsFalse(string.IsNullOrWhiteSpace(openCL.PlatformName));
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Open_IndexPastLastDevice_ThrowsNotSupported(string backend)
    {
        var error = Assert.ThrowsExactly<NotSupportedException>(() => GpuContext.Open(GpuTestBackends.Parse(backend), 1000));
        Assert.IsFalse(string.IsNullOrWhiteSpace(error.Message));
    }
}

using DeformEngine.Gpu;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Tests.Gpu;

[TestClass]
public class GpuMemoryTests
{
    private const long OnePetabyte = 1L << 50;

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void UploadDownload_Float_RoundTripsExactly(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        float[] data = RandomValues(1001, seed: 1).Select(v => (float)v).ToArray();
        using GpuBuffer buffer = context.ToDevice<float>(data);
        CollectionAssert.AreEqual(data, context.ToHost<float>(buffer, data.Length));
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void UploadDownload_Double_RoundTripsExactly(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        double[] data = RandomValues(1001, seed: 2);
        using GpuBuffer buffer = context.ToDevice<double>(data);
        CollectionAssert.AreEqual(data, context.ToHost<double>(buffer, data.Length));
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void UploadDownload_AtOffset_TouchesOnlyThatRange(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        using GpuBuffer buffer = context.Allocate(8 * sizeof(int));
        context.Zero(buffer);
        context.Upload<int>(buffer, [7, 8], byteOffset: 3 * sizeof(int));
        CollectionAssert.AreEqual(new[] { 0, 0, 0, 7, 8, 0, 0, 0 }, context.ToHost<int>(buffer, 8));
        var tail = new int[2];
        context.Download<int>(buffer, tail, byteOffset: 4 * sizeof(int));
        CollectionAssert.AreEqual(new[] { 8, 0 }, tail);
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void ZeroAndCopy_OddByteCount_Work(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        byte[] data = Enumerable.Range(1, 13).Select(i => (byte)i).ToArray();
        using GpuBuffer source = context.ToDevice<byte>(data);
        using GpuBuffer destination = context.ToDevice<byte>(data);
        context.Zero(destination);
        CollectionAssert.AreEqual(new byte[13], context.ToHost<byte>(destination, 13));
        context.Copy(source, destination, 13);
        CollectionAssert.AreEqual(data, context.ToHost<byte>(destination, 13));
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Upload_PastEnd_ThrowsArgumentOutOfRange(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        using GpuBuffer buffer = context.Allocate(16);
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => context.Upload<float>(buffer, new float[4], byteOffset: 4));
        StringAssert.Contains(error.Message, "16 bytes");
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Allocate_OnePetabyte_ThrowsNamedOutOfMemoryError(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        var error = Assert.Throws<GpuException>(() => context.Allocate(OnePetabyte));
        string[] expected = ["CL_INVALID_BUFFER_SIZE", "CL_MEM_OBJECT_ALLOCATION_FAILURE", "CUDA_ERROR_OUT_OF_MEMORY"];
        CollectionAssert.Contains(expected, error.ErrorName);
        StringAssert.Contains(error.Message, OnePetabyte.ToString());
        using GpuBuffer stillUsable = context.Allocate(64);
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Buffer_UsedAfterDispose_ThrowsObjectDisposed(string backend)
    {
        using GpuContext context = GpuTestBackends.Open(backend);
        GpuBuffer buffer = context.Allocate(16);
        buffer.Dispose();
        buffer.Dispose();
        Assert.IsTrue(buffer.IsDisposed);
        Assert.ThrowsExactly<ObjectDisposedException>(() => context.Upload<float>(buffer, new float[4]));
        Assert.ThrowsExactly<ObjectDisposedException>(() => context.Zero(buffer));
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Context_UsedAfterDispose_ThrowsObjectDisposed(string backend)
    {
        GpuContext context = GpuTestBackends.Open(backend);
        GpuBuffer buffer = context.Allocate(16);
        GpuKernel fill = context.Compile(ElementwiseKernels.SourceName, ElementwiseKernels.Source).GetKernel("fill");
        context.Dispose();
        context.Dispose();
        Assert.IsTrue(buffer.IsDisposed, "the context frees the buffers it still owns");
        Assert.ThrowsExactly<ObjectDisposedException>(() => context.Allocate(16));
        Assert.ThrowsExactly<ObjectDisposedException>(() => context.ToHost<float>(buffer, 4));
        Assert.ThrowsExactly<ObjectDisposedException>(() => context.Compile("other.cl", "KERNEL void k(int n) { }"));
        Assert.ThrowsExactly<ObjectDisposedException>(() => fill.Launch(4, [buffer, 1f, 4L]));
        Assert.ThrowsExactly<ObjectDisposedException>(context.Synchronize);
        buffer.Dispose();
    }

    [TestMethod]
    [DataRow("OpenCL")]
    [DataRow("CUDA")]
    public void Upload_BufferOfOtherContext_ThrowsArgument(string backend)
    {
        using GpuContext first = GpuTestBackends.Open(backend);
        using GpuContext second = GpuTestBackends.Open(backend);
        using GpuBuffer buffer = first.Allocate(16);
        var error = Assert.ThrowsExactly<ArgumentException>(() => second.Upload<float>(buffer, new float[4]));
        StringAssert.Contains(error.Message, "another context");
    }

    internal static double[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextDouble() * 2 - 1).ToArray();
    }
}

using DeformEngine.Gpu;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>Device memory through tensors and buffers: exact round trips, ranges, ownership, disposal.</summary>
[TestClass]
public class GpuMemoryTests
{
    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void ToDeviceAndBack_FloatAndDouble_RoundTripExactly(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        float[] singles = RandomValues(1001, seed: 1).Select(v => (float)v).ToArray();
        CollectionAssert.AreEqual(singles, Tensor<float>.FromArray(singles, 7, 11, 13).To(device).ToArray());
        GpuTestDevices.RequirePrecision<double>(device);
        double[] doubles = RandomValues(1001, seed: 2);
        CollectionAssert.AreEqual(doubles, Tensor<double>.FromArray(doubles, 1001).To(device).To(Device.Cpu).ToArray());
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void Buffer_UploadShorterThanCount_TouchesOnlyThatPrefix(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        using var buffer = device.Allocate<int>(8);
        buffer.Upload<int>([0, 0, 0, 0, 0, 0, 0, 0]);
        buffer.Upload<int>([7, 8]);
        var all = new int[8];
        buffer.Download<int>(all);
        CollectionAssert.AreEqual(new[] { 7, 8, 0, 0, 0, 0, 0, 0 }, all);
        var head = new int[3];
        buffer.Download<int>(head);
        CollectionAssert.AreEqual(new[] { 7, 8, 0 }, head);
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void Buffer_UsedAfterDispose_ThrowsObjectDisposed(string backend)
    {
        var device = (GpuDevice)GpuTestDevices.Shared(backend);
        var buffer = device.Allocate<float>(4);
        buffer.Dispose();
        buffer.Dispose();
        Assert.ThrowsExactly<ObjectDisposedException>(() => buffer.Upload<float>(new float[4]));
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void View_BufferOfOtherDevice_ThrowsArgumentNamingBothDevices(string backend)
    {
        var first = (GpuDevice)GpuTestDevices.Shared(backend);
        using var second = GpuTestDevices.OpenNew(backend);
        using var buffer = second.Allocate<float>(4);
        var error = Assert.ThrowsExactly<ArgumentException>(() => first.View<float>(buffer));
        StringAssert.Contains(error.Message, second.Name);
        StringAssert.Contains(error.Message, first.Name);
    }

    internal static double[] RandomValues(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.NextDouble() * 2 - 1).ToArray();
    }
}

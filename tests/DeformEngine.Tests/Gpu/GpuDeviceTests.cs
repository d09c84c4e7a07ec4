using DeformEngine.Gpu;
using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>Opening and listing devices, and the errors of bad use: mixed devices, a disposed device,
/// absurd allocations, operations a device does not implement.</summary>
[TestClass]
public class GpuDeviceTests
{
    [TestMethod]
    [DataRow(TestBackends.OpenCL)]
    [DataRow(TestBackends.Cuda)]
    public void ListDevices_WhenDeviceOpens_ListsItWithItsBackend(string backend)
    {
        using var device = GpuTestDevices.OpenNew(backend);
        var listed = backend == TestBackends.OpenCL ? OpenCLDevice.ListDevices() : CudaDevice.ListDevices();
        Assert.IsNotEmpty(listed);
        Assert.AreEqual(device.Backend, listed[0].Backend);
        CollectionAssert.IsSubsetOf(listed.ToList(), GpuDevice.ListDevices().ToList());
        StringAssert.Contains(device.Name, listed[0].Name);
        Assert.IsFalse(device.IsCpu);
    }

    [TestMethod]
    public void CpuAccelerator_Open_IsNotListedAndRunsTheGpuKernels()
    {
        using var device = CpuAcceleratorDevice.Open(groupSize: 8, processors: 1);
        Assert.AreEqual(GpuBackend.CpuAccelerator, device.Backend);
        Assert.IsFalse(GpuDevice.ListDevices().Any(d => d.Backend == GpuBackend.CpuAccelerator));
        Assert.AreEqual(8, device.MaxGroupSize);
        Assert.AreEqual(GpuGemm.TiledKernel, device.GemmKernel);
        StringAssert.Contains(device.GemmDescription, "tiled");
        Assert.IsTrue(device.SupportsDouble && device.SupportsDeterministic);
        CollectionAssert.AreEqual(new[] { 2.0, 4.0 }, Tensor<double>.FromArray([1.0, 2.0], 2).To(device).MulScalar(2.0).ToArray());
    }

    [TestMethod]
    [DataRow(0, 2)]
    [DataRow(3, 2)]
    [DataRow(512, 2)]
    [DataRow(4, -1)]
    public void CpuAccelerator_OpenWithBadSizes_ThrowsArgumentOutOfRange(int groupSize, int processors)
    {
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CpuAcceleratorDevice.Open(groupSize, processors));
        Assert.IsTrue(error.ParamName is "groupSize" or "processors", error.ParamName);
    }

    [TestMethod]
    public void GroupSize_SetOutsidePowersOfTwoUpToMax_ThrowsArgumentOutOfRange()
    {
        using var device = CpuAcceleratorDevice.Open(groupSize: 4, processors: 1);
        foreach (int bad in new[] { 0, 3, 8 })
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => device.GroupSize = bad);
            StringAssert.Contains(error.Message, "4");
        }
        device.GroupSize = 2;
        Assert.AreEqual(2, device.GroupSize);
        Assert.ThrowsExactly<NotSupportedException>(() => device.GemmKernel = GpuGemm.CuBlas);
    }

    [TestMethod]
    [DataRow(TestBackends.OpenCL)]
    [DataRow(TestBackends.Cuda)]
    public void Open_IndexPastLastDevice_ThrowsNotSupportedWithCount(string backend)
    {
        GpuTestDevices.OpenNew(backend).Dispose();
        var error = Assert.ThrowsExactly<NotSupportedException>(() =>
        {
            using GpuDevice _ = backend == TestBackends.OpenCL ? OpenCLDevice.Open(1000) : CudaDevice.Open(1000);
        });
        StringAssert.Contains(error.Message, "1000");
    }

    [TestMethod]
    public void Open_NoAcceptedOpenCLDevice_ThrowsNotSupportedSayingWhatIsMissing()
    {
        if (OpenCLDevice.ListDevices().Count > 0) Assert.Inconclusive("an OpenCL device that ILGPU accepts exists on this machine");
        var error = Assert.ThrowsExactly<NotSupportedException>(() => OpenCLDevice.Open());
        StringAssert.Contains(error.Message, "OpenCL");
    }

    [TestMethod]
    public void Open_NoCudaDriver_ThrowsNotSupportedNotDllNotFound()
    {
        if (CudaDevice.ListDevices().Count > 0) Assert.Inconclusive("a CUDA device exists on this machine");
        var error = Assert.ThrowsExactly<NotSupportedException>(() => CudaDevice.Open());
        StringAssert.Contains(error.Message, "CUDA");
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void DeformConv2d_WeightOnCpu_ThrowsArgumentNamingWeight(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        var input = Tensor<float>.Randn(1, 1, 2, 5, 5).To(device);
        var offset = Tensor<float>.Zeros(1, 18, 3, 3).To(device);
        var weight = Tensor<float>.Randn(2, 2, 2, 3, 3);
        var error = Assert.ThrowsExactly<ArgumentException>(() => Functional.DeformConv2d(input, offset, weight));
        Assert.AreEqual("weight", error.ParamName);
        StringAssert.Contains(error.Message, device.Name);
        StringAssert.Contains(error.Message, "cpu");
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void Ops_TensorsOnTwoDevices_ThrowArgumentNamingTheArgument(string backend)
    {
        var first = GpuTestDevices.Shared(backend);
        using var second = GpuTestDevices.OpenNew(backend);
        Assert.AreNotEqual(first.Name, second.Name, "two handles on one device have distinct names");
        var input = Tensor<float>.Randn(1, 1, 2, 5, 5).To(first);
        var offset = Tensor<float>.Zeros(1, 18, 3, 3).To(second);
        var weight = Tensor<float>.Randn(2, 2, 2, 3, 3).To(first);
        var error = Assert.ThrowsExactly<ArgumentException>(() => Functional.DeformConv2d(input, offset, weight));
        Assert.AreEqual("offset", error.ParamName);
        StringAssert.Contains(error.Message, second.Name);
        var coords = Tensor<float>.Zeros(1, 4, 2).To(second);
        Assert.AreEqual("coords", Assert.ThrowsExactly<ArgumentException>(() => Functional.BilinearSample(input, coords)).ParamName);
        var other = Tensor<float>.Randn(3, 1, 2, 5, 5).To(second);
        Assert.AreEqual("other", Assert.ThrowsExactly<ArgumentException>(() => input.Add(other)).ParamName);
        Assert.AreEqual("other", Assert.ThrowsExactly<ArgumentException>(() => input.Add(Tensor<float>.Randn(4, 1, 2, 5, 5))).ParamName);
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void Device_DisposedWhileTensorsLive_LaterUseThrowsObjectDisposed(string backend)
    {
        var device = GpuTestDevices.OpenNew(backend);
        var input = Tensor<float>.Randn(5, 1, 2, 5, 5).To(device);
        var offset = Tensor<float>.Zeros(1, 18, 3, 3).To(device);
        var weight = Tensor<float>.Randn(6, 2, 2, 3, 3).To(device);
        device.Dispose();
        device.Dispose();
        Assert.IsTrue(device.IsDisposed);
        var read = Assert.ThrowsExactly<ObjectDisposedException>(() => input.ToArray());
        StringAssert.Contains(read.Message, device.Name);
        StringAssert.Contains(read.Message, "disposed");
        Assert.ThrowsExactly<ObjectDisposedException>(() => Functional.DeformConv2d(input, offset, weight));
        Assert.ThrowsExactly<ObjectDisposedException>(() => input.Add(input));
        Assert.ThrowsExactly<ObjectDisposedException>(() => Tensor<float>.Zeros(3).To(device));
        Assert.ThrowsExactly<ObjectDisposedException>(() => device.Allocate<float>(4));
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void Allocate_Absurd_ThrowsInsufficientMemoryAndDeviceStaysUsable(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        const long count = 1L << 50;
        var error = Assert.ThrowsExactly<InsufficientMemoryException>(() => device.Allocate<float>(count));
        StringAssert.Contains(error.Message, device.Name);
        StringAssert.Contains(error.Message, (count * sizeof(float)).ToString());
        Assert.IsNotNull(error.InnerException, "the back end's own error is kept");
        var overflow = Assert.ThrowsExactly<InsufficientMemoryException>(() => device.Allocate<double>(long.MaxValue / 2));
        StringAssert.Contains(overflow.Message, "overflows");
        CollectionAssert.AreEqual(new[] { 1f, 2f }, Tensor<float>.FromArray([1f, 2f], 2).To(device).ToArray());
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void CpuOnlyOps_OnDevice_ThrowNotSupportedNamingOpAndDevice(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        var x = Tensor<float>.Randn(7, 3, 4).To(device);
        (string Op, Action Call)[] cases =
        [
            ("CPU only", () => x.AsSpan()),
            ("CPU only", () => _ = x[0, 0]),
            ("CosineMimicLoss", () => Functional.CosineMimicLoss(x, x)),
        ];
        foreach (var (op, call) in cases)
        {
            var error = Assert.ThrowsExactly<NotSupportedException>(call, op);
            StringAssert.Contains(error.Message, op);
            StringAssert.Contains(error.Message, device.Name);
        }
    }

    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void Backward_GradOutputOnCpuForDeviceTensor_ThrowsArgument(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        var x = Tensor<float>.Randn(9, 3).To(device);
        x.RequiresGrad = true;
        var y = x.MulScalar(2f);
        var error = Assert.ThrowsExactly<ArgumentException>(() => y.Backward(Tensor<float>.Ones(3)));
        Assert.AreEqual("gradOutput", error.ParamName);
    }
}

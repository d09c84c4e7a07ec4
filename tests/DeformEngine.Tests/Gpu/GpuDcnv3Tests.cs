using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Gpu;

/// <summary>The GPU devices (the CPU accelerator's included) do not implement DCNv3, DCNv4 and their building blocks yet: each refuses with
/// a NotSupportedException that names the operator and the device, before touching memory.</summary>
[TestClass]
public class GpuDcnv3Tests
{
    [TestMethod]
    [DynamicData(nameof(TestBackends.GpuRows), typeof(TestBackends))]
    public void Dcnv3Operators_OnDevice_ThrowNotSupportedNamingOpAndDevice(string backend)
    {
        var device = GpuTestDevices.Shared(backend);
        var input = Tensor<float>.Randn(1, 1, 4, 4, 4).To(device);
        var offset = Tensor<float>.Zeros(1, 4, 4, 2 * 9 * 2).To(device);
        var mask = Tensor<float>.Zeros(1, 4, 4, 2 * 9).To(device);
        var offsetMask = Tensor<float>.Zeros(1, 4, 4, Dcnv4Params.PackedLength(2, 9)).To(device);
        (string Op, Action Call)[] cases =
        [
            ("Dcnv3", () => Functional.Dcnv3(input, offset, mask, (3, 3), padding: (1, 1), group: 2)),
            ("Dcnv4", () => Functional.Dcnv4(input, offsetMask, (3, 3), padding: (1, 1), group: 2)),
            ("LayerNorm", () => Functional.LayerNorm(input)),
            ("Gelu", () => Functional.Gelu(input)),
        ];
        foreach (var (op, call) in cases)
        {
            var error = Assert.ThrowsExactly<NotSupportedException>(call, op);
            StringAssert.Contains(error.Message, op);
            StringAssert.Contains(error.Message, device.Name);
        }
    }
}

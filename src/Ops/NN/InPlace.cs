namespace DeformEngine.NN;

/// <summary>Unrecorded in-place updates of module state that run where the tensor lives: on the CPU
/// through its span, on a device with the device's primitives (never by a round trip to the host).</summary>
internal static class InPlace
{
    /// <summary>x += value.</summary>
    public static void AddScalar<T>(Tensor<T> x, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Device.IsCpu)
        {
            var data = x.AsSpan();
            for (int i = 0; i < data.Length; i++) data[i] += value;
        }
        else
        {
            x.Device.Scalar(DeviceScalarOp.Add, x.Buffer!, value, x.Buffer!, x.Numel);
        }
    }
}

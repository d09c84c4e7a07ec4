namespace DeformEngine;

/// <summary>Maximum over sliding windows of [N, C, H, W]:
/// out[n, c, oy, ox] = max over (i, j) of input[n, c, oy·sH − pH + i, ox·sW − pW + j], padding
/// reading −∞. Gradient: ∂L/∂out goes to the position of the maximum (the first one in row-major
/// window order on ties, as PyTorch), every other input position gets 0.</summary>
public static partial class Functional
{
    /// <summary>out[n, c, oy, ox] = max_{i,j} input[n, c, oy·sH − pH + i, ox·sW − pW + j], padding reading
    /// −∞.</summary>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="kernelSize">(kH, kW).</param>
    /// <param name="stride">(sH, sW); null for the kernel size.</param>
    /// <param name="padding">(pH, pW), at most half the kernel; null for (0, 0).</param>
    /// <returns>[N, C, OutH, OutW], OutH = ⌊(H + 2pH − kH)/sH⌋ + 1 (OutW likewise).</returns>
    /// <exception cref="ArgumentException">The input is not 4-D, or the window does not fit the padded
    /// input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive kernel size or stride, or padding outside [0,
    /// kernel/2].</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> MaxPool2d<T>(Tensor<T> input, (int H, int W) kernelSize,
        (int H, int W)? stride = null, (int H, int W)? padding = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        var geometry = PoolGeometry.Create(input, kernelSize, stride, padding);
        var parameters = new Pool2dParams(geometry.N, geometry.C, geometry.H, geometry.W, geometry.OutH, geometry.OutW,
            kernelSize.H, kernelSize.W, geometry.StrideH, geometry.StrideW, geometry.PadH, geometry.PadW);
        var backend = OperatorBackends.For<IMaxPool2dBackend>(input.Device, "MaxPool2d");
        var (output, argmax) = backend.MaxPool2d(parameters, input);
        return Autograd.Record(output, "MaxPool2d", (grad, _) => [backend.MaxPool2dBackward(parameters, grad, argmax)], input);
    }
}

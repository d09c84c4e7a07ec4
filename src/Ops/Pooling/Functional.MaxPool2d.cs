namespace DeformEngine;

/// <summary>Maximum over sliding windows of [N, C, H, W]:
/// out[n, c, oy, ox] = max over (i, j) of input[n, c, oy·sH − pH + i, ox·sW − pW + j], padding
/// reading −∞. Gradient: ∂L/∂out goes to the position of the maximum (the first one in row-major
/// window order on ties, as PyTorch), every other input position gets 0.</summary>
public static partial class Functional
{
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

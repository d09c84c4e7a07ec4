namespace DeformEngine;

/// <summary>DCNv4's core operator: the sampling of <see cref="Functional.Dcnv3{T}"/> with the offsets and
/// the unnormalised aggregation weights packed in one offset_mask [N, OutH, OutW, D]: for group g,
/// Δx and Δy of point p at g·3P + 2p and g·3P + 2p + 1, its weight m_p at g·3P + 2P + p, and D = G·P·3
/// rounded up to a multiple of 8 (the padding is never read and gets a zero gradient).
/// out[n, oy, ox, g·Cg + c] = Σ_p m_p · bilinear(input[n, :, :, g·Cg + c], x_p, y_p) with no softmax.
/// Gradients as DCNv3's, written into one offset_mask gradient.</summary>
public static partial class Functional
{
    public static Tensor<T> Dcnv4<T>(Tensor<T> input, Tensor<T> offsetMask, (int H, int W) kernelSize,
        (int H, int W)? stride = null, (int H, int W)? padding = null, (int H, int W)? dilation = null,
        int group = 1, int? groupChannels = null, double offsetScale = 1.0, bool removeCenter = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = Dcnv4Params.Create(input, offsetMask, kernelSize, stride, padding, dilation, group, groupChannels, offsetScale, removeCenter);
        var backend = OperatorBackends.For<IDcnv4Backend>(input.Device, "Dcnv4");
        var output = backend.Dcnv4(parameters, input, offsetMask);
        return Autograd.Record(output, "Dcnv4", (grad, needs) =>
            backend.Dcnv4Backward(parameters, grad, input, offsetMask, needs), input, offsetMask);
    }
}

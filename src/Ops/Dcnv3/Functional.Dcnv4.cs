namespace DeformEngine;

/// <summary>DCNv4's core operator: the sampling of <see cref="Functional.Dcnv3{T}"/> with the offsets and
/// the unnormalised aggregation weights packed in one offset_mask [N, OutH, OutW, D]: for group g,
/// Δx and Δy of point p at g·3P + 2p and g·3P + 2p + 1, its weight m_p at g·3P + 2P + p, and D = G·P·3
/// rounded up to a multiple of 8 (the padding is never read and gets a zero gradient).
/// out[n, oy, ox, g·Cg + c] = Σ_p m_p · bilinear(input[n, :, :, g·Cg + c], x_p, y_p) with no softmax.
/// Gradients as DCNv3's, written into one offset_mask gradient.</summary>
public static partial class Functional
{
    /// <summary>out[n, oy, ox, g·Cg + c] = Σ_p m_p·bilinear(input[n, :, :, g·Cg + c], x_p, y_p) with offsets and
    /// weights unpacked from one offset_mask and no softmax.</summary>
    /// <param name="input">[N, H, W, G·Cg], channels last.</param>
    /// <param name="offsetMask">[N, OutH, OutW, D], per group g: (Δx, Δy) of point p at g·3P + 2p, g·3P + 2p + 1 and
    /// m_p at g·3P + 2P + p; D = ⌈3·G·P/8⌉·8.</param>
    /// <param name="kernelSize">(kh, kw).</param>
    /// <param name="stride">(sH, sW); null for (1, 1).</param>
    /// <param name="padding">(pH, pW); null for (0, 0).</param>
    /// <param name="dilation">(dH, dW); null for (1, 1).</param>
    /// <param name="group">G, the number of groups that share an offset and weight field.</param>
    /// <param name="groupChannels">Cg, channels per group; null for C/G.</param>
    /// <param name="offsetScale">s, the factor applied to every offset.</param>
    /// <param name="removeCenter">Drop the kernel's centre point (odd square kernels only), P = kh·kw − 1.</param>
    /// <returns>[N, OutH, OutW, G·Cg].</returns>
    /// <exception cref="ArgumentException">A rank or shape does not fit, the channels are not G·Cg, removeCenter
    /// without an odd square kernel, or tensors on different devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive kernel size, stride, dilation or group count,
    /// negative padding, or a non-finite offset scale.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
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

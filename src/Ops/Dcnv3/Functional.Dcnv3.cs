namespace DeformEngine;

/// <summary>DCNv3's core operator, InternImage's <c>dcnv3_core_pytorch</c>. For a channels-last input
/// [N, H, W, G·Cg], output position (oy, ox), group g and sampling point p = (kernel column i, kernel row j):
///   x = ox·sW − padW + hW + (i·dW − hW + Δx_p)·s,  y = oy·sH − padH + hH + (j·dH − hH + Δy_p)·s,
///   out[n, oy, ox, g·Cg + c] = Σ_p m_p · bilinear(input[n, :, :, g·Cg + c], x, y),
/// with hW = ⌊dW·(kw − 1)/2⌋ (hH likewise), s = offsetScale, offset [N, OutH, OutW, G·P·2] holding
/// (Δx, Δy) per group and point, mask [N, OutH, OutW, G·P] applied as given (the module applies a
/// softmax per group), and bilinear = grid_sample's (align_corners=False, zero padding) in pixel units.
/// Points run over the kernel column-major (i outer, j inner); removeCenter drops the centre point.
/// Gradients: ∂L/∂input[q] += m·g_q·u; ∂L/∂m = Σ_c u·Σ_q g_q v_q; ∂L/∂Δx = s·m·Σ_c u·Σ_q (∂g_q/∂x) v_q
/// (Δy likewise), u = ∂L/∂out.
/// <para>Two deliberate choices against the published Python: the reference grid is built in the
/// input's precision (the Python builds it in float32), and padding.H pads the height (the Python pads
/// the height by pad_w and the width by pad_h — the same when they are equal, as in both modules, and what
/// the CUDA kernel does).</para></summary>
public static partial class Functional
{
    /// <summary>out[n, oy, ox, g·Cg + c] = Σ_p m_p·bilinear(input[n, :, :, g·Cg + c], x_p, y_p), channels last, with
    /// the sampling points of the class summary.</summary>
    /// <param name="input">[N, H, W, G·Cg], channels last.</param>
    /// <param name="offset">[N, OutH, OutW, G·P·2] of (Δx, Δy) per group and point, in kernel-tap units before
    /// <paramref name="offsetScale"/>.</param>
    /// <param name="mask">[N, OutH, OutW, G·P] aggregation weights, applied as given.</param>
    /// <param name="kernelSize">(kh, kw).</param>
    /// <param name="stride">(sH, sW); null for (1, 1).</param>
    /// <param name="padding">(pH, pW); null for (0, 0).</param>
    /// <param name="dilation">(dH, dW); null for (1, 1).</param>
    /// <param name="group">G, the number of groups that share an offset and mask field.</param>
    /// <param name="groupChannels">Cg, channels per group; null for C/G.</param>
    /// <param name="offsetScale">s, the factor applied to every offset.</param>
    /// <param name="removeCenter">Drop the kernel's centre point (odd square kernels only), P = kh·kw − 1.</param>
    /// <returns>[N, OutH, OutW, G·Cg].</returns>
    /// <exception cref="ArgumentException">A rank or shape does not fit, the channels are not G·Cg, removeCenter
    /// without an odd square kernel, or tensors on different devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive kernel size, stride, dilation or group count,
    /// negative padding, or a non-finite offset scale.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> Dcnv3<T>(Tensor<T> input, Tensor<T> offset, Tensor<T> mask, (int H, int W) kernelSize,
        (int H, int W)? stride = null, (int H, int W)? padding = null, (int H, int W)? dilation = null,
        int group = 1, int? groupChannels = null, double offsetScale = 1.0, bool removeCenter = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = Dcnv3Params.Create(input, offset, mask, kernelSize, stride, padding, dilation, group, groupChannels, offsetScale,
            removeCenter);
        var backend = OperatorBackends.For<IDcnv3Backend>(input.Device, "Dcnv3");
        var output = backend.Dcnv3(parameters, input, offset, mask);
        return Autograd.Record(output, "Dcnv3", (grad, needs) =>
            backend.Dcnv3Backward(parameters, grad, input, offset, mask, needs), input, offset, mask);
    }
}

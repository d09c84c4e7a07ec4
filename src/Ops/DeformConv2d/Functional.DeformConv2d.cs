namespace DeformEngine;

/// <summary>Deformable convolution v1 (offsets) and v2 (offsets and a modulation mask), as
/// torchvision.ops.deform_conv2d. For output (n, o, y, x) and kernel point k = (i, j):
/// p = p0 + p_k + Δp_k with p0 + p_k = (y·s − pad + i·d, x·s − pad + j·d), Δp_k = (offset[2k], offset[2k+1])
/// of the input channel's offset group, and
/// out = Σ_{c,k} weight[o, c, k] · m_k · Σ_q g_q(p) · input[c, q] + bias[o].
/// Computed as deformable im2col followed by a grouped GEMM. Backward: the GEMM gives ∂L/∂columns
/// and ∂L/∂weight; one pass over the sampling points then scatters ∂L/∂columns into the input
/// through the corner coefficients and gives ∂L/∂Δp = m · Σ_c ∂L/∂col · Σ_q (∂g_q/∂p) v_q and
/// ∂L/∂m = Σ_c ∂L/∂col · Σ_q g_q v_q.
/// The backend of the input's device runs it (<see cref="IDeformConv2dBackend"/>): on the CPU the
/// reference (CpuReferenceBackend.DeformConv2d.cs, image by image) or the fast path (CpuFastBackend.DeformConv2d.cs, chunks
/// of images sized by <see cref="EngineOptions.WorkspaceBytes"/>, one GEMM per group and chunk).</summary>
public static partial class Functional
{
    /// <summary>out[n, o, y, x] = Σ_{c,k} weight[o, c, k]·m_k·bilinear(input[n, c], p0 + p_k + Δp_k) + bias[o],
    /// torchvision's deform_conv2d.</summary>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="offset">[N, 2·G_off·kh·kw, OutH, OutW] of (Δy, Δx) pairs in pixels, per offset group and kernel
    /// point (row-major).</param>
    /// <param name="weight">[O, C/groups, kh, kw]; groups = C / weight.shape[1].</param>
    /// <param name="bias">[O], or null for none.</param>
    /// <param name="stride">(sH, sW); null for (1, 1).</param>
    /// <param name="padding">(pH, pW); null for (0, 0).</param>
    /// <param name="dilation">(dH, dW); null for (1, 1).</param>
    /// <param name="mask">[N, G_off·kh·kw, OutH, OutW] modulation (DCNv2), or null for DCNv1 (m = 1).</param>
    /// <returns>[N, O, OutH, OutW], OutH = ⌊(H + 2pH − dH·(kh − 1) − 1)/sH⌋ + 1 (OutW likewise).</returns>
    /// <exception cref="ArgumentException">A rank, shape or channel count does not fit (offset channels not a multiple
    /// of 2·kh·kw, offset groups not dividing C), the output would be empty or too large, or tensors on different
    /// devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive stride or dilation, or negative
    /// padding.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> DeformConv2d<T>(Tensor<T> input, Tensor<T> offset, Tensor<T> weight, Tensor<T>? bias = null,
        (int H, int W)? stride = null, (int H, int W)? padding = null, (int H, int W)? dilation = null, Tensor<T>? mask = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameters = DeformConv2dParams.Create(input, offset, weight, bias, stride, padding, dilation, mask);
        var backend = OperatorBackends.For<IDeformConv2dBackend>(input.Device, "DeformConv2d");
        var output = backend.DeformConv2d(parameters, input, offset, weight, bias, mask);
        return Autograd.Record(output, "DeformConv2d", (grad, needs) =>
            backend.DeformConv2dBackward(parameters, grad, input, offset, weight, bias, mask, needs),
            input, offset, weight, bias, mask);
    }
}

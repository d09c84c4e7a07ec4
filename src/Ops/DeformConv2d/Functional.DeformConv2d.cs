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

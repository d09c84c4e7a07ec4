namespace DeformEngine;

/// <summary>2-D convolution (cross-correlation) as im2col + GEMM per image and group:
/// out[n, o] = Σ_{c,i,j} weight[o, c, i, j] · input[n, c, y·s − p + i·d, x·s − p + j·d] + bias[o].
/// Gradients: ∂L/∂W = ∂L/∂out · columnsᵀ, ∂L/∂columns = Wᵀ · ∂L/∂out scattered back by col2im,
/// ∂L/∂bias = Σ_{n,y,x} ∂L/∂out.
/// The backend of the input's device runs it (<see cref="IConv2dBackend"/>): on the CPU the reference
/// (CpuReferenceBackend.Conv2d.cs, image by image) or the fast path (CpuFastBackend.Conv2d.cs: chunks of images sized by
/// <see cref="EngineOptions.WorkspaceBytes"/>, one GEMM per group and chunk, and a 1×1 stride-1 unpadded
/// convolution multiplies the input directly).</summary>
public static partial class Functional
{
    /// <summary>out[n, o] = Σ_{c,i,j} weight[o, c, i, j]·input[n, c, y·s − p + i·d, x·s − p + j·d] + bias[o]
    /// (cross-correlation, zero padding).</summary>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="weight">[O, C/groups, kh, kw].</param>
    /// <param name="bias">[O], or null for none.</param>
    /// <param name="stride">(sH, sW); null for (1, 1).</param>
    /// <param name="padding">Zero rows and columns on each side (pH, pW); null for (0, 0).</param>
    /// <param name="dilation">Spacing of the kernel taps (dH, dW); null for (1, 1).</param>
    /// <param name="groups">Channel groups: C and O split into this many independent convolutions.</param>
    /// <returns>[N, O, OutH, OutW], OutH = ⌊(H + 2pH − dH·(kh − 1) − 1)/sH⌋ + 1 (OutW likewise).</returns>
    /// <exception cref="ArgumentException">A rank, shape or channel count does not fit, the output would be empty or
    /// too large, or tensors on different devices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive stride, dilation or group count, or negative
    /// padding.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
    public static Tensor<T> Conv2d<T>(Tensor<T> input, Tensor<T> weight, Tensor<T>? bias = null,
        (int H, int W)? stride = null, (int H, int W)? padding = null, (int H, int W)? dilation = null, int groups = 1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (groups < 1) throw new ArgumentOutOfRangeException(nameof(groups), groups, "groups must be at least 1.");
        var cp = Conv2dParams.Create(input, weight, bias, stride, padding, dilation, groups);
        var backend = OperatorBackends.For<IConv2dBackend>(input.Device, "Conv2d");
        var output = backend.Conv2d(cp, input, weight, bias);
        return Autograd.Record(output, "Conv2d", (grad, needs) => backend.Conv2dBackward(cp, grad, input, weight, bias, needs),
            input, weight, bias);
    }
}

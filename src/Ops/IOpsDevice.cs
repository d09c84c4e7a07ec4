namespace DeformEngine;

/// <summary>One operand of <see cref="IOpsDevice.Gemm{T}"/>: for batch entry (outer, inner) a row-major
/// matrix that starts <c>Offset + outer·StrideOuter + inner·StrideInner</c> elements into
/// <see cref="Buffer"/>, with leading dimension <see cref="Ld"/>. <see cref="Transposed"/> makes the
/// product use the matrix's transpose (the operand of C is never transposed).</summary>
public readonly record struct DeviceMatrix(
    DeviceBuffer Buffer, long Offset, int Ld, long StrideOuter = 0, long StrideInner = 0, bool Transposed = false);

/// <summary>Sizes of a <see cref="Functional.BilinearSample{T}"/> call: input [Batch, Channels, Height, Width],
/// coords [Batch, Points, 2].</summary>
public readonly record struct BilinearSampleShape(int Batch, int Channels, int Height, int Width, int Points);

/// <summary>What a device implements to run the operators of this assembly, one method per primitive.
/// The operators keep argument checks, workspace chunking and autograd; a device only runs kernels.
/// Buffers hold elements of the method's T in the layouts of the CPU kernels
/// (<c>DeformEngine.Kernels</c>); "images [first, first + images)" are batch entries and the column
/// buffers hold those images back to back, [images, C_in·kh·kw, OutH·OutW]. Methods that produce a
/// gradient write it (they do not accumulate); a null destination is not computed.</summary>
public partial interface IOpsDevice
{
    /// <summary>C_b = op(A_b)·op(B_b) + beta·C_b for every b = (outer, inner) in
    /// batchOuter × batchInner, op(A) m×k and op(B) k×n. Each C_b is summed in a fixed order.</summary>
    void Gemm<T>(int m, int n, int k, int batchOuter, int batchInner, DeviceMatrix a, DeviceMatrix b, T beta, DeviceMatrix c)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>output[n, o, :] += bias[o] for output [batch, channels, plane].</summary>
    void AddBias<T>(DeviceBuffer output, DeviceBuffer bias, int batch, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>gradBias[o] = Σ_{n, i} gradOutput[n, o, i].</summary>
    void BiasGrad<T>(DeviceBuffer gradOutput, DeviceBuffer gradBias, int batch, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Regular im2col of images [first, first + images) of <paramref name="input"/>.</summary>
    void Im2Col<T>(Conv2dParams cp, DeviceBuffer input, int firstImage, int images, DeviceBuffer columns)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The adjoint of <see cref="Im2Col{T}"/>: writes those images of <paramref name="gradInput"/>.</summary>
    void Col2Im<T>(Conv2dParams cp, DeviceBuffer columns, int firstImage, int images, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Deformable im2col (mask null = DCNv1) of images [first, first + images).</summary>
    void DeformIm2Col<T>(DeformConv2dParams dp, DeviceBuffer input, DeviceBuffer offset, DeviceBuffer? mask,
        int firstImage, int images, DeviceBuffer columns)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The sampling backward of those images in one call: gradient of the input (a scatter
    /// through the bilinear corners), of the offsets and of the mask, from ∂L/∂columns.</summary>
    void DeformSamplingBackward<T>(DeformConv2dParams dp, DeviceBuffer gradColumns, DeviceBuffer input,
        DeviceBuffer offset, DeviceBuffer? mask, int firstImage, int images,
        DeviceBuffer? gradInput, DeviceBuffer? gradOffset, DeviceBuffer? gradMask)
        where T : unmanaged, IFloatingPointIeee754<T>;

    void BilinearSample<T>(BilinearSampleShape shape, DeviceBuffer input, DeviceBuffer coords, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Gradients of input (a scatter) and coords from ∂L/∂output in one call.</summary>
    void BilinearSampleBackward<T>(BilinearSampleShape shape, DeviceBuffer gradOutput, DeviceBuffer input,
        DeviceBuffer coords, DeviceBuffer? gradInput, DeviceBuffer? gradCoords)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Helpers of the operators' device paths.</summary>
internal static class OpsDevice
{
    /// <summary>The device's operator primitives, or a clear refusal naming the operator.</summary>
    public static IOpsDevice For(Device device, string operation)
    {
        if (device.IsDisposed)
            throw new ObjectDisposedException(device.Name, $"Device '{device.Name}' has been disposed; its tensors can no longer be used.");
        return device as IOpsDevice ?? throw device.Unsupported(operation);
    }

    /// <summary>Images per chunk so that one column buffer of <paramref name="bytesPerImage"/> per image
    /// stays within <see cref="EngineOptions.WorkspaceBytes"/> (at least one image).</summary>
    public static int ImagesPerChunk(int batch, long bytesPerImage) =>
        (int)Math.Clamp(EngineOptions.WorkspaceBytes / Math.Max(bytesPerImage, 1), 1, Math.Max(batch, 1));

    public static DeviceBuffer BufferOf<T>(Tensor<T> tensor) where T : unmanaged, IFloatingPointIeee754<T> =>
        tensor.Buffer ?? throw new InvalidOperationException("Expected a device tensor.");
}

using System.Numerics;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The operator primitives of <see cref="IOpsDevice"/> as kernels of
/// <see cref="GemmKernels"/>, <see cref="Conv2dKernels"/>, <see cref="DeformConv2dKernels"/> and
/// <see cref="BilinearSampleKernels"/>.</summary>
public abstract partial class GpuDevice
{
    // Fixed-point sums stay below 2^62: one bit of headroom under long's 2^63.
    private const int FixedPointBits = 62;

    // Limits of the fixed-point scale 2^e, so that it and its inverse are normal floats.
    private const int MinScaleExponent = -120, MaxScaleExponent = 120;

    private const int InputModeNone = 0, InputModeAtomic = 1, InputModeFixed = 2;

    public void Gemm<T>(int m, int n, int k, int batchOuter, int batchInner, DeviceMatrix a, DeviceMatrix b, T beta, DeviceMatrix c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m < 0 || n < 0 || k < 0 || batchOuter < 0 || batchInner < 1)
            throw new ArgumentOutOfRangeException(nameof(m), $"Gemm sizes must be non-negative (batchInner positive), got m={m}, n={n}, k={k}, batch {batchOuter}×{batchInner}.");
        if (c.Transposed) throw new ArgumentException("c: the result cannot be transposed.", nameof(c));
        long tiles = (long)((m + GemmKernels.TileSize - 1) / GemmKernels.TileSize) * ((n + GemmKernels.TileSize - 1) / GemmKernels.TileSize);
        long groups = tiles * batchOuter * batchInner;
        Kernel<T>(GemmKernels.SourceName, GemmKernels.Source, "gemm").Launch(groups * GemmKernels.GroupSize,
        [
            Flag(a.Transposed), Flag(b.Transposed), m, n, k, batchInner,
            Native(a.Buffer), a.Offset, a.Ld, a.StrideOuter, a.StrideInner,
            Native(b.Buffer), b.Offset, b.Ld, b.StrideOuter, b.StrideInner,
            Real(beta),
            Native(c.Buffer), c.Offset, c.Ld, c.StrideOuter, c.StrideInner,
        ], GemmKernels.GroupSize);
    }

    public void AddBias<T>(DeviceBuffer output, DeviceBuffer bias, int batch, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)batch * channels * plane;
        Conv<T>("add_bias").Launch(count, [Native(output), Native(bias), channels, (long)plane, count]);
    }

    public void BiasGrad<T>(DeviceBuffer gradOutput, DeviceBuffer gradBias, int batch, int channels, int plane)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Conv<T>("bias_grad").Launch((long)channels * Conv2dKernels.BiasGroupSize,
            [Native(gradOutput), Native(gradBias), batch, channels, (long)plane], Conv2dKernels.BiasGroupSize);

    public void Im2Col<T>(Conv2dParams cp, DeviceBuffer input, int firstImage, int images, DeviceBuffer columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)images * cp.ColumnRows * cp.ColumnCols;
        Conv<T>("im2col").Launch(count, [Native(input), Native(columns), firstImage, images, .. Geometry(cp)]);
    }

    public void Col2Im<T>(Conv2dParams cp, DeviceBuffer columns, int firstImage, int images, DeviceBuffer gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)images * cp.InChannels * cp.Height * cp.Width;
        Conv<T>("col2im").Launch(count, [Native(columns), Native(gradInput), firstImage, images, .. Geometry(cp)]);
    }

    public void DeformIm2Col<T>(DeformConv2dParams dp, DeviceBuffer input, DeviceBuffer offset, DeviceBuffer? mask,
        int firstImage, int images, DeviceBuffer columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = (long)images * dp.Conv.ColumnRows * dp.Conv.ColumnCols;
        Deform<T>("deform_im2col").Launch(count,
        [
            Native(input), Native(offset), NativeOrPlaceholder(mask), Flag(mask is not null),
            Native(columns), firstImage, images, .. Geometry(dp.Conv), dp.OffsetGroups,
        ]);
    }

    public void DeformSamplingBackward<T>(DeformConv2dParams dp, DeviceBuffer gradColumns, DeviceBuffer input,
        DeviceBuffer offset, DeviceBuffer? mask, int firstImage, int images,
        DeviceBuffer? gradInput, DeviceBuffer? gradOffset, DeviceBuffer? gradMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        long imageSize = (long)cp.InChannels * cp.Height * cp.Width;
        GpuBuffer columns = Native(gradColumns);
        // A bound on any input cell's sum: each of the kh·kw·OutH·OutW sampling points of a channel
        // reaches a cell through at most one corner, with a coefficient ≤ 1.
        double Bound() => (double)dp.KernelPoints * cp.ColumnCols
            * MaxAbs<T>(columns, (long)images * cp.ColumnRows * cp.ColumnCols)
            * (mask is null ? 1.0 : MaxAbs<T>(Native(mask), (long)cp.Batch * dp.OffsetGroups * dp.KernelPoints * cp.ColumnCols));
        Scatter<T>(gradInput, (long)firstImage * imageSize, images * imageSize, Bound, (mode, fixedCells, scale) =>
            Deform<T>("deform_sampling_backward").Launch((long)images * dp.OffsetGroups * dp.KernelPoints * cp.ColumnCols,
            [
                columns, Native(input), Native(offset), NativeOrPlaceholder(mask), Flag(mask is not null),
                NativeOrPlaceholder(gradInput), fixedCells, mode, Real<T>(scale),
                NativeOrPlaceholder(gradOffset), Flag(gradOffset is not null), NativeOrPlaceholder(gradMask), Flag(gradMask is not null),
                firstImage, images, .. Geometry(cp), dp.OffsetGroups,
            ]));
    }

    public void BilinearSample<T>(BilinearSampleShape shape, DeviceBuffer input, DeviceBuffer coords, DeviceBuffer output)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Bilinear<T>("bilinear_sample").Launch((long)shape.Batch * shape.Channels * shape.Points,
            [Native(input), Native(coords), Native(output), shape.Batch, shape.Channels, shape.Height, shape.Width, shape.Points]);

    public void BilinearSampleBackward<T>(BilinearSampleShape shape, DeviceBuffer gradOutput, DeviceBuffer input,
        DeviceBuffer coords, DeviceBuffer? gradInput, DeviceBuffer? gradCoords)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        GpuBuffer upstream = Native(gradOutput);
        long cells = (long)shape.Batch * shape.Channels * shape.Height * shape.Width;
        // Each of a plane's points reaches a cell through at most one corner, with a coefficient ≤ 1.
        double Bound() => shape.Points * MaxAbs<T>(upstream, (long)shape.Batch * shape.Channels * shape.Points);
        Scatter<T>(gradInput, 0, cells, Bound, (mode, fixedCells, scale) =>
            Bilinear<T>("bilinear_sample_backward").Launch((long)shape.Batch * shape.Points,
            [
                upstream, Native(input), Native(coords),
                NativeOrPlaceholder(gradInput), fixedCells, mode, Real<T>(scale),
                NativeOrPlaceholder(gradCoords), Flag(gradCoords is not null),
                shape.Batch, shape.Channels, shape.Height, shape.Width, shape.Points,
            ]));
    }

    /// <summary>
    /// Runs a kernel that scatters into <paramref name="gradInput"/>[offset, offset + count) (when not
    /// null) and writes that range. Fast mode: zero the range, float atomics. Deterministic mode: add
    /// (long)(value·2^e) into a zeroed 64-bit buffer, with e the largest exponent that keeps
    /// <paramref name="bound"/>·2^e below 2^62, then convert once. Non-finite upstream values leave no
    /// usable scale; the range is then NaN, as some of its cells would be on the CPU.
    /// </summary>
    private void Scatter<T>(DeviceBuffer? gradInput, long offset, long count, Func<double> bound,
        Action<int, GpuBuffer, double> launch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (gradInput is null)
        {
            launch(InputModeNone, _placeholder, 1.0);
            return;
        }
        GpuBuffer destination = Native(gradInput);
        if (!Deterministic)
        {
            FillRange(destination, offset, T.Zero, count);
            launch(InputModeAtomic, _placeholder, 1.0);
            return;
        }
        double limit = bound();
        if (!double.IsFinite(limit))
        {
            launch(InputModeNone, _placeholder, 1.0);
            FillRange(destination, offset, T.NaN, count);
            return;
        }
        int exponent = limit > 0
            ? Math.Clamp(FixedPointBits - (int)Math.Ceiling(Math.Log2(limit)), MinScaleExponent, MaxScaleExponent)
            : 0;
        using GpuBuffer fixedCells = Scratch(count * sizeof(long));
        Context.Zero(fixedCells);
        launch(InputModeFixed, fixedCells, Math.ScaleB(1.0, exponent));
        Elementwise<T>("fixed_to_real").Launch(count, [fixedCells, destination, offset, Real<T>(Math.ScaleB(1.0, -exponent)), count]);
    }

    private GpuKernel Conv<T>(string name) => Kernel<T>(Conv2dKernels.SourceName, Conv2dKernels.Source, name);

    private GpuKernel Deform<T>(string name) => Kernel<T>(DeformConv2dKernels.SourceName, DeformConv2dKernels.Source, name);

    private GpuKernel Bilinear<T>(string name) => Kernel<T>(BilinearSampleKernels.SourceName, BilinearSampleKernels.Source, name);

    /// <summary>channels, height, width, kernel_h, kernel_w, out_h, out_w, stride, pad, dilation (h, w each).</summary>
    private static KernelArg[] Geometry(Conv2dParams cp) =>
    [
        cp.InChannels, cp.Height, cp.Width, cp.KernelH, cp.KernelW, cp.OutH, cp.OutW,
        cp.Stride.H, cp.Stride.W, cp.Padding.H, cp.Padding.W, cp.Dilation.H, cp.Dilation.W,
    ];
}

using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>Sizes of the DeformPSRoIPool kernels (MXNet's names): input [*, Channels, Height, Width], output [Rois,
/// OutputDim, Pooled, Pooled], trans [Rois, 2·Classes, Parts, Parts] when HasTrans; Mode the backward's
/// <see cref="ScatterMode"/>.</summary>
internal readonly record struct DeformPSRoIPoolArgs(int Channels, int Height, int Width, int Rois, int OutputDim, int GroupSize,
    int Pooled, int Parts, int Samples, int Classes, int HasTrans, int Mode)
{
    public long Outputs => (long)Rois * OutputDim * Pooled * Pooled;
}

/// <summary>
/// Kernels of <c>Ops/RoIPooling/Functional.DeformPSRoIPool.cs</c> (MXNet's DeformablePSROIPooling): the bin geometry of
/// <c>DeformPSRoIPoolGeometry.Bin</c>, the mean over the samples kept inside the ½-pixel margin, the input gradient as a
/// scatter (float atomics, or 64-bit fixed point in deterministic mode) and the trans gradient as a gather: one thread
/// per part sums every bin and channel that the part moves. RoIs come from a host-built table of 5 values per RoI:
/// batch, start y, start x, height, width (MXNet's rounded RoI).
/// </summary>
internal static class DeformPSRoIPoolGpuKernels
{
    private const int RoiColumns = 5;

    /// <summary>One output element (k, c, i, j) per item.</summary>
    public static void Forward<T, R>(ArrayView<T> input, ArrayView<T> rois, ArrayView<T> trans, T transStd, ArrayView<T> output,
        DeformPSRoIPoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long index = GridLoop.First; index < g.Outputs; index += GridLoop.Stride)
        {
            var bin = Bin<T, R>(rois, trans, transStd, index, g);
            T sum = T.Zero;
            int kept = 0;
            for (int iy = 0; iy < g.Samples; iy++)
                for (int ix = 0; ix < g.Samples; ix++)
                {
                    var corners = bin.Sample(iy, ix, g);
                    if (!corners.Inside) continue;
                    sum += corners.Sample(input, bin.Plane, g.Width);
                    kept++;
                }
            output[index] = kept == 0 ? T.Zero : sum / R.FromInt(kept);
        }
    }

    /// <summary>The same items: each kept sample gets ∂L/∂out / kept through its corners.</summary>
    public static void BackwardInput<T, R>(ArrayView<T> gradOutput, ArrayView<T> rois, ArrayView<T> trans, T transStd,
        ArrayView<T> gradInput, ArrayView<long> cells, T scale, DeformPSRoIPoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long index = GridLoop.First; index < g.Outputs; index += GridLoop.Stride)
        {
            var bin = Bin<T, R>(rois, trans, transStd, index, g);
            int kept = 0;
            for (int iy = 0; iy < g.Samples; iy++)
                for (int ix = 0; ix < g.Samples; ix++)
                    if (bin.Sample(iy, ix, g).Inside) kept++;
            if (kept == 0) continue;
            T perSample = gradOutput[index] / R.FromInt(kept);
            for (int iy = 0; iy < g.Samples; iy++)
                for (int ix = 0; ix < g.Samples; ix++)
                    bin.Sample(iy, ix, g).Scatter(gradInput, cells, bin.Plane, g.Width, perSample, g.Mode, scale);
        }
    }

    /// <summary>One part (k, class, part y, part x) per item: both trans gradients, summed over the class's channels and
    /// the bins that the part moves. NOTE: kept is treated as a constant, as in MXNet.</summary>
    public static void BackwardTrans<T, R>(ArrayView<T> gradOutput, ArrayView<T> input, ArrayView<T> rois, ArrayView<T> trans, T transStd,
        ArrayView<T> gradTrans, DeformPSRoIPoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long bins = (long)g.Pooled * g.Pooled;
        int perClass = g.OutputDim / g.Classes;
        for (long index = GridLoop.First; index < (long)g.Rois * g.Classes * g.Parts * g.Parts; index += GridLoop.Stride)
        {
            int partX = (int)(index % g.Parts), partY = (int)(index / g.Parts % g.Parts);
            int cls = (int)(index / ((long)g.Parts * g.Parts) % g.Classes);
            long roi = index / ((long)g.Parts * g.Parts * g.Classes);
            T roiHeight = rois[roi * RoiColumns + 3], roiWidth = rois[roi * RoiColumns + 4];
            T gx = T.Zero, gy = T.Zero;
            for (int channel = cls * perClass; channel < (cls + 1) * perClass; channel++)
                for (int i = 0; i < g.Pooled; i++)
                {
                    if ((int)((long)i * g.Parts / g.Pooled) != partY) continue;
                    for (int j = 0; j < g.Pooled; j++)
                    {
                        if ((int)((long)j * g.Parts / g.Pooled) != partX) continue;
                        long output = (roi * g.OutputDim + channel) * bins + (long)i * g.Pooled + j;
                        var bin = Bin<T, R>(rois, trans, transStd, output, g);
                        int kept = 0;
                        T dy = T.Zero, dx = T.Zero;
                        for (int iy = 0; iy < g.Samples; iy++)
                            for (int ix = 0; ix < g.Samples; ix++)
                            {
                                var corners = bin.Sample(iy, ix, g);
                                if (!corners.Inside) continue;
                                kept++;
                                corners.Gradient(input, bin.Plane, g.Width, out T sy, out T sx);
                                dy += sy;
                                dx += sx;
                            }
                        if (kept == 0) continue;
                        T perSample = gradOutput[output] / R.FromInt(kept);
                        gx += transStd * roiWidth * dx * perSample;
                        gy += transStd * roiHeight * dy * perSample;
                    }
                }
            gradTrans[TransIndex(roi, cls, 0, partY, partX, g)] = gx;
            gradTrans[TransIndex(roi, cls, 1, partY, partX, g)] = gy;
        }
    }

    /// <summary>Bin (i, j) of output channel c of RoI k, for output element <paramref name="index"/>: its input plane and
    /// first sample and sample steps, as the CPU's <c>DeformPSRoIPoolGeometry.Bin</c>.</summary>
    private static PSBin<T, R> Bin<T, R>(ArrayView<T> rois, ArrayView<T> trans, T transStd, long index, DeformPSRoIPoolArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long bins = (long)g.Pooled * g.Pooled;
        int i = (int)(index % bins / g.Pooled), j = (int)(index % g.Pooled);
        long roi = index / bins / g.OutputDim;
        int channel = (int)(index / bins % g.OutputDim);
        long row = roi * RoiColumns;
        T height = rois[row + 3], width = rois[row + 4];
        T binH = height / R.FromInt(g.Pooled), binW = width / R.FromInt(g.Pooled);
        int partY = (int)((long)i * g.Parts / g.Pooled), partX = (int)((long)j * g.Parts / g.Pooled);
        int groupY = (int)((long)i * g.GroupSize / g.Pooled), groupX = (int)((long)j * g.GroupSize / g.Pooled);
        int cls = channel / (g.OutputDim / g.Classes);
        T transY = T.Zero, transX = T.Zero;
        if (g.HasTrans != 0)
        {
            transX = trans[TransIndex(roi, cls, 0, partY, partX, g)] * transStd;
            transY = trans[TransIndex(roi, cls, 1, partY, partX, g)] * transStd;
        }
        var bin = default(PSBin<T, R>);
        bin.StartX = R.FromInt(j) * binW + rois[row + 2] + transX * width;
        bin.StartY = R.FromInt(i) * binH + rois[row + 1] + transY * height;
        bin.StepY = binH / R.FromInt(g.Samples);
        bin.StepX = binW / R.FromInt(g.Samples);
        int inputChannel = (channel * g.GroupSize + groupY) * g.GroupSize + groupX;
        bin.Plane = ((long)R.ToInt(rois[row]) * g.Channels + inputChannel) * g.Height * g.Width;
        return bin;
    }

    private static long TransIndex(long roi, int cls, int axis, int partY, int partX, DeformPSRoIPoolArgs g) =>
        (((roi * g.Classes + cls) * 2 + axis) * g.Parts + partY) * g.Parts + partX;
}

/// <summary>One bin of DeformPSRoIPool on the device: where its input plane starts and its sample grid.</summary>
internal struct PSBin<T, R>
    where T : unmanaged, IFloatingPointIeee754<T>
    where R : struct, IDeviceReal<T>
{
    public long Plane;
    public T StartY, StartX, StepY, StepX;

    /// <summary>Sample (iy, ix) with MXNet's border rule (margin ½).</summary>
    public readonly GpuRoICorners<T, R> Sample(int iy, int ix, DeformPSRoIPoolArgs g) =>
        GpuRoICorners<T, R>.At(StartY + R.FromInt(iy) * StepY, StartX + R.FromInt(ix) * StepX, g.Height, g.Width, T.One / (T.One + T.One));
}

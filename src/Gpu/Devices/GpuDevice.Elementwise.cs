using ILGPU;
using ILGPU.Runtime;
using DeformEngine.Gpu.Kernels;

namespace DeformEngine.Gpu;

/// <summary>The buffer-level element-wise and reduction launches behind the device's <see cref="ITensorBackend"/>
/// and its operators (kernels: <see cref="ElementwiseGpuKernels"/>, <see cref="ReductionGpuKernels"/>).</summary>
public abstract partial class GpuDevice
{
    // Elements one thread of a reduction pass combines; the passes shrink the count by this factor.
    private const long ReductionFanIn = 64;

    // Partial sums per channel of the per-channel reductions: enough threads for a GPU, a fixed order for all.
    private const int ChannelParts = 64;

    internal void Fill<T>(ArrayView<T> destination, T value) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (destination.Length > 0)
            Launch<T, ArrayView<T>, T, long>(Items(destination.Length), typeof(ElementwiseGpuKernels), nameof(ElementwiseGpuKernels.Fill),
                destination, value, destination.Length);
    }

    internal void Unary<T>(int function, ArrayView<T> x, ArrayView<T> result) where T : unmanaged, IFloatingPointIeee754<T> =>
        Launch<T, ArrayView<T>, ArrayView<T>, int, long>(Items(x.Length), typeof(ElementwiseGpuKernels), nameof(ElementwiseGpuKernels.Unary),
            x, result, function, x.Length);

    /// <summary>Same-shape binary: a <see cref="BinaryFunction"/> code or <see cref="ElementwiseGpuKernels.ReluBackward"/>,
    /// <see cref="ElementwiseGpuKernels.AbsBackward"/>; result may alias a.</summary>
    internal void BinaryOp<T>(int function, ArrayView<T> a, ArrayView<T> b, ArrayView<T> result) where T : unmanaged, IFloatingPointIeee754<T> =>
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, int, long>(Items(result.Length), typeof(ElementwiseGpuKernels),
            nameof(ElementwiseGpuKernels.Binary), a, b, result, function, result.Length);

    internal void ScalarOp<T>(ScalarFunction function, ArrayView<T> x, T value, ArrayView<T> result) where T : unmanaged, IFloatingPointIeee754<T> =>
        Launch<T, ArrayView<T>, ArrayView<T>, T, int, long>(Items(x.Length), typeof(ElementwiseGpuKernels),
            nameof(ElementwiseGpuKernels.Scalar), x, result, value, (int)function, x.Length);

    /// <summary>The sum of <paramref name="x"/> into result[0], in an order fixed by the size alone (deterministic).</summary>
    internal void SumAll<T>(ArrayView<T> x, ArrayView<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length == 0)
        {
            Fill(result.SubView(0, 1), T.Zero);
            return;
        }
        using var partial = Reduce(x, maxAbs: false);
        CopyView(partial.View<T>().SubView(0, 1), result);
    }

    /// <summary>max |x| read back to the host; NaN when any element is NaN.</summary>
    internal double MaxAbs<T>(ArrayView<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (x.Length == 0) return 0;
        using var partial = Reduce(x, maxAbs: true);
        var value = new T[1];
        Download(partial.View<T>(), value);
        return double.CreateTruncating(value[0]);
    }

    /// <summary>Per-channel sums of [batch, channels, plane] into <paramref name="totals"/> (scaled by
    /// <paramref name="scale"/>), in an order fixed by the sizes.</summary>
    internal void ChannelSums<T>(ChannelTerm term, int batch, int channels, long plane, ArrayView<T> a, ArrayView<T>? b,
        ArrayView<T>? centre, ArrayView<T> totals, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (channels == 0) return;
        using var partials = (GpuDeviceBuffer)Allocate<T>((long)channels * ChannelParts);
        var args = new ChannelSumArgs(batch, channels, plane, ChannelParts, (int)term);
        Launch<T, ArrayView<T>, ArrayView<T>, ArrayView<T>, ArrayView<T>, ChannelSumArgs>(Items((long)channels * ChannelParts),
            typeof(ReductionGpuKernels), nameof(ReductionGpuKernels.ChannelPartials),
            a, b ?? ViewOrPlaceholder<T>(null), centre ?? ViewOrPlaceholder<T>(null), partials.View<T>(), args);
        Launch<T, ArrayView<T>, ArrayView<T>, int, int, T>(Items(channels), typeof(ReductionGpuKernels),
            nameof(ReductionGpuKernels.ChannelTotals), partials.View<T>(), totals, channels, ChannelParts, scale);
    }

    /// <summary>Reduction passes until one value is left; returns the buffer (the caller's to dispose) whose first
    /// element holds it.</summary>
    private GpuDeviceBuffer Reduce<T>(ArrayView<T> x, bool maxAbs) where T : unmanaged, IFloatingPointIeee754<T>
    {
        GpuDeviceBuffer? current = null;
        ArrayView<T> source = x;
        long count = x.Length;
        do
        {
            long parts = (count + ReductionFanIn - 1) / ReductionFanIn;
            var partial = (GpuDeviceBuffer)Allocate<T>(parts);
            Launch<T, ArrayView<T>, ArrayView<T>, long, long, int>(Items(parts), typeof(ReductionGpuKernels),
                nameof(ReductionGpuKernels.Partials), source, partial.View<T>(), count, parts, maxAbs ? 1 : 0);
            current?.Dispose();
            current = partial;
            source = partial.View<T>();
            count = parts;
        }
        while (count > 1);
        return current;
    }
}

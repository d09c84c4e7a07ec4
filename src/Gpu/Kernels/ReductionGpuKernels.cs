using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>How <see cref="ReductionGpuKernels.ChannelPartials{T, R}"/> maps an element before summing it.</summary>
internal enum ChannelTerm
{
    /// <summary>a</summary>
    Value,

    /// <summary>(a − centre[c])²</summary>
    CenteredSquare,

    /// <summary>a · b</summary>
    Product,
}

/// <summary>[batch, channels, plane] viewed per channel, summed as <see cref="Parts"/> strided partial sums.</summary>
internal readonly record struct ChannelSumArgs(int Batch, int Channels, long Plane, int Parts, int Term);

/// <summary>
/// Reductions without barriers or atomics: a pass writes <c>parts</c> partial results, part p combining elements
/// p, p + parts, p + 2·parts, … in that order; the host repeats passes until one value is left. The order depends
/// only on the sizes, so sums are deterministic and the same on every device; no barrier means the CPU accelerator
/// runs them at the speed of a loop.
/// </summary>
internal static class ReductionGpuKernels
{
    /// <summary>partials[p] = Σ x[p + j·parts] (maxAbs = 0), or max |x[p + j·parts]| with NaN winning (maxAbs = 1),
    /// so a NaN anywhere reaches the host.</summary>
    public static void Partials<T, R>(ArrayView<T> x, ArrayView<T> partials, long count, long parts, int maxAbs)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long p = GridLoop.First; p < parts; p += GridLoop.Stride)
        {
            T result = T.Zero;
            for (long i = p; i < count; i += parts)
            {
                if (maxAbs == 0)
                {
                    result += x[i];
                }
                else
                {
                    T magnitude = R.Abs(x[i]);
                    if (magnitude > result || R.IsNaN(magnitude)) result = R.IsNaN(result) ? result : magnitude;
                }
            }
            partials[p] = result;
        }
    }

    /// <summary>partials[c·Parts + p] = Σ term(element) over channel c's elements e ≡ p (mod Parts), e running over
    /// the batch and the plane: the first pass of the per-channel sums (bias gradient, batch-norm statistics).</summary>
    public static void ChannelPartials<T, R>(ArrayView<T> a, ArrayView<T> b, ArrayView<T> centre, ArrayView<T> partials, ChannelSumArgs g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        long total = g.Batch * g.Plane;
        for (long item = GridLoop.First; item < (long)g.Channels * g.Parts; item += GridLoop.Stride)
        {
            long c = item / g.Parts;
            T sum = T.Zero;
            for (long e = item % g.Parts; e < total; e += g.Parts)
            {
                long k = ((e / g.Plane) * g.Channels + c) * g.Plane + e % g.Plane;
                if (g.Term == (int)ChannelTerm.Value)
                {
                    sum += a[k];
                }
                else if (g.Term == (int)ChannelTerm.CenteredSquare)
                {
                    T centered = a[k] - centre[c];
                    sum += centered * centered;
                }
                else
                {
                    sum += a[k] * b[k];
                }
            }
            partials[item] = sum;
        }
    }

    /// <summary>totals[c] = scale · Σ_p partials[c·parts + p], in p order.</summary>
    public static void ChannelTotals<T, R>(ArrayView<T> partials, ArrayView<T> totals, int channels, int parts, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
        where R : struct, IDeviceReal<T>
    {
        for (long c = GridLoop.First; c < channels; c += GridLoop.Stride)
        {
            T sum = T.Zero;
            for (int p = 0; p < parts; p++) sum += partials[c * parts + p];
            totals[c] = scale * sum;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DeformEngine.Kernels;

/// <summary>Fast kernels of <see cref="Functional.Dcnv3{T}"/> and <see cref="Functional.Dcnv4{T}"/>: the same
/// sums as <see cref="Dcnv3ReferenceKernels"/> up to rounding, with the position arithmetic written
/// identically (so a point on a kink lands on the same side). The input is already channels-last, so a
/// group's Cg channels at a corner are contiguous: each sampling point is located once and its corners are
/// applied to the group's channels as Vector256 runs with a scalar tail (fused multiply-adds in the same
/// order in both, so a channel's result does not depend on which computed it).
/// Work is split into fixed tasks that never depend on the thread count: the forward's tasks are output
/// rows (n, oy) and own those output elements; the backward's tasks are (image n, group g) and own that
/// group's channels of ∂L/∂input[n] and that group's offsets and masks of image n, visiting positions and
/// points in a fixed order — so the input-gradient scatter needs no atomics and is bitwise reproducible.</summary>
internal static unsafe class Dcnv3FastKernels
{
    /// <summary>out[n, oy, ox, g·Cg + c] = Σ_p Σ_q (m_p·g_q) · input[n, q, g·Cg + c], one task per output row.</summary>
    public static void Forward<T>(Dcnv3Params parameters, Dcnv3Fields fields, T[] input, T[] offset, T[] mask, T[] output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var grid = new KernelGrid<T>(parameters);
        ParallelLoop.For(parameters.Batch * parameters.OutH, task =>
        {
            int n = task / parameters.OutH, oy = task - n * parameters.OutH;
            int channels = parameters.Channels, groupChannels = parameters.GroupChannels, points = parameters.Points;
            var sources = stackalloc nint[4 * points];
            var weights = stackalloc T[4 * points];
            fixed (T* image = &input[n * parameters.Height * parameters.Width * channels])
            fixed (T* off = offset)
            fixed (T* msk = mask)
            fixed (T* outData = output)
            {
                for (int ox = 0; ox < parameters.OutW; ox++)
                {
                    int row = (n * parameters.OutH + oy) * parameters.OutW + ox;
                    for (int g = 0; g < parameters.Group; g++)
                    {
                        int count = 0;
                        for (int p = 0; p < points; p++)
                        {
                            var sampler = grid.Locate(fields, off, row, oy, ox, g, p);
                            if (!sampler.Any) continue;
                            T m = msk[fields.Mask(row, g, p)];
                            for (int q = 0; q < 4; q++)
                            {
                                int pixel = sampler.Pixel(q);
                                if (pixel < 0) continue;
                                sources[count] = (nint)(image + (long)pixel * channels + g * groupChannels);
                                weights[count++] = m * sampler.Weight(q);
                            }
                        }
                        WeightedSum(outData + (long)row * channels + g * groupChannels, sources, weights, count, groupChannels);
                    }
                }
            }
        });
    }

    /// <summary>The backward, one task per (image, group): per sampling point S_q = Σ_c u[c]·v_q[c] over the
    /// group's channels (u = ∂L/∂out), then ∂L/∂m = Σ_q g_q·S_q, ∂L/∂Δx = s·m·Σ_q (∂g_q/∂x)·S_q (Δy
    /// likewise), and ∂L/∂input[q] += m·g_q·u in the same pass over the channels. Null destinations are
    /// skipped; the offset and mask destinations may be one array (DCNv4). The destinations must be zeroed.</summary>
    public static void Backward<T>(Dcnv3Params parameters, Dcnv3Fields fields, T[] gradOutput, T[] input, T[] offset, T[] mask,
        T[]? gradInput, T[]? gradOffset, T[]? gradMask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var grid = new KernelGrid<T>(parameters);
        int groupChannels = parameters.GroupChannels;
        // Corners outside the map read these zeros and scatter into a task's own sink, so the vector loop
        // has no branches.
        var zeros = new T[groupChannels];
        bool wantSums = gradOffset is not null || gradMask is not null;
        ParallelLoop.For(parameters.Batch * parameters.Group, task =>
        {
            int n = task / parameters.Group, g = task - n * parameters.Group;
            int channels = parameters.Channels, plane = parameters.Height * parameters.Width;
            var sink = new T[groupChannels];
            var values = stackalloc T*[4];
            var targets = stackalloc T*[4];
            var scatterWeights = stackalloc T[4];
            var sums = stackalloc T[4];
            fixed (T* image = &input[n * plane * channels])
            fixed (T* gradImage = gradInput)
            fixed (T* zero = zeros)
            fixed (T* sinkData = sink)
            fixed (T* upstreamData = gradOutput)
            fixed (T* off = offset)
            fixed (T* msk = mask)
            fixed (T* gOff = gradOffset)
            fixed (T* gMask = gradMask)
            {
                T* gradImageN = gradImage == null ? null : gradImage + (long)n * plane * channels;
                for (int oy = 0; oy < parameters.OutH; oy++)
                    for (int ox = 0; ox < parameters.OutW; ox++)
                    {
                        int row = (n * parameters.OutH + oy) * parameters.OutW + ox;
                        T* upstream = upstreamData + (long)row * channels + g * groupChannels;
                        for (int p = 0; p < parameters.Points; p++)
                        {
                            var sampler = grid.Locate(fields, off, row, oy, ox, g, p);
                            // NOTE: a point with no corner in the map read 0 whatever its offset and mask: its
                            // gradients stay 0 (even for a non-finite mask).
                            if (!sampler.Any) continue;
                            T m = msk[fields.Mask(row, g, p)];
                            for (int q = 0; q < 4; q++)
                            {
                                int pixel = sampler.Pixel(q);
                                long at = (long)pixel * channels + g * groupChannels;
                                values[q] = pixel < 0 ? zero : image + at;
                                targets[q] = pixel < 0 || gradImageN == null ? sinkData : gradImageN + at;
                                scatterWeights[q] = m * sampler.Weight(q);
                            }
                            CornerStep(upstream, values, targets, scatterWeights, groupChannels, wantSums, gradImageN != null, sums);
                            if (!wantSums) continue;
                            T sumX = T.Zero, sumY = T.Zero, sumMask = T.Zero;
                            for (int q = 0; q < 4; q++)
                            {
                                sumMask += sampler.Weight(q) * sums[q];
                                sumX += sampler.WeightDx(q) * sums[q];
                                sumY += sampler.WeightDy(q) * sums[q];
                            }
                            if (gOff != null)
                            {
                                int at = fields.OffsetX(row, g, p);
                                // NOTE: x = … + Δx·s, so ∂x/∂Δx = s (offsetScale).
                                gOff[at] = grid.Scale * m * sumX;
                                gOff[at + 1] = grid.Scale * m * sumY;
                            }
                            if (gMask != null) gMask[fields.Mask(row, g, p)] = sumMask;
                        }
                    }
            }
        });
    }

    /// <summary>dest[c] = Σ_e weights[e]·sources[e][c] for c &lt; length, entries in order.</summary>
    private static void WeightedSum<T>(T* dest, nint* sources, T* weights, int count, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = 0, width = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c <= length - 2 * width; c += 2 * width)
            {
                var low = Vector256<T>.Zero;
                var high = Vector256<T>.Zero;
                for (int e = 0; e < count; e++)
                {
                    var w = Vector256.Create(weights[e]);
                    T* source = (T*)sources[e] + c;
                    low = MultiplyAdd(w, Vector256.Load(source), low);
                    high = MultiplyAdd(w, Vector256.Load(source + width), high);
                }
                low.Store(dest + c);
                high.Store(dest + c + width);
            }
            for (; c <= length - width; c += width)
            {
                var sum = Vector256<T>.Zero;
                for (int e = 0; e < count; e++) sum = MultiplyAdd(Vector256.Create(weights[e]), Vector256.Load((T*)sources[e] + c), sum);
                sum.Store(dest + c);
            }
        }
        for (; c < length; c++)
        {
            T sum = T.Zero;
            for (int e = 0; e < count; e++) sum = T.FusedMultiplyAdd(weights[e], ((T*)sources[e])[c], sum);
            dest[c] = sum;
        }
    }

    /// <summary>One sampling point's pass over a group's channels: sums[q] = Σ_c upstream[c]·values[q][c]
    /// (lanes summed at the end, then the scalar tail) when <paramref name="wantSums"/>, and
    /// targets[q][c] += weights[q]·upstream[c] when <paramref name="scatter"/>.</summary>
    private static void CornerStep<T>(T* upstream, T** values, T** targets, T* weights, int length, bool wantSums, bool scatter, T* sums)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* v0 = values[0], v1 = values[1], v2 = values[2], v3 = values[3];
        T* t0 = targets[0], t1 = targets[1], t2 = targets[2], t3 = targets[3];
        T w0 = weights[0], w1 = weights[1], w2 = weights[2], w3 = weights[3];
        T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
        int c = 0, width = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated && length >= width)
        {
            Vector256<T> a0 = default, a1 = default, a2 = default, a3 = default;
            var b0 = Vector256.Create(w0);
            var b1 = Vector256.Create(w1);
            var b2 = Vector256.Create(w2);
            var b3 = Vector256.Create(w3);
            for (; c <= length - width; c += width)
            {
                var u = Vector256.Load(upstream + c);
                if (wantSums)
                {
                    a0 = MultiplyAdd(u, Vector256.Load(v0 + c), a0);
                    a1 = MultiplyAdd(u, Vector256.Load(v1 + c), a1);
                    a2 = MultiplyAdd(u, Vector256.Load(v2 + c), a2);
                    a3 = MultiplyAdd(u, Vector256.Load(v3 + c), a3);
                }
                if (scatter)
                {
                    MultiplyAdd(b0, u, Vector256.Load(t0 + c)).Store(t0 + c);
                    MultiplyAdd(b1, u, Vector256.Load(t1 + c)).Store(t1 + c);
                    MultiplyAdd(b2, u, Vector256.Load(t2 + c)).Store(t2 + c);
                    MultiplyAdd(b3, u, Vector256.Load(t3 + c)).Store(t3 + c);
                }
            }
            s0 = Vector256.Sum(a0);
            s1 = Vector256.Sum(a1);
            s2 = Vector256.Sum(a2);
            s3 = Vector256.Sum(a3);
        }
        for (; c < length; c++)
        {
            T u = upstream[c];
            if (wantSums)
            {
                s0 = T.FusedMultiplyAdd(u, v0[c], s0);
                s1 = T.FusedMultiplyAdd(u, v1[c], s1);
                s2 = T.FusedMultiplyAdd(u, v2[c], s2);
                s3 = T.FusedMultiplyAdd(u, v3[c], s3);
            }
            if (scatter)
            {
                t0[c] = T.FusedMultiplyAdd(w0, u, t0[c]);
                t1[c] = T.FusedMultiplyAdd(w1, u, t1[c]);
                t2[c] = T.FusedMultiplyAdd(w2, u, t2[c]);
                t3[c] = T.FusedMultiplyAdd(w3, u, t3[c]);
            }
        }
        sums[0] = s0;
        sums[1] = s1;
        sums[2] = s2;
        sums[3] = s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MultiplyAdd<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        throw new NotSupportedException(typeof(T).Name);
    }

    /// <summary>The kernel's point offsets i·dilW − halfW and j·dilH − halfH and the scale in T, computed once
    /// per call; <see cref="Locate"/> then forms the position with the very operations of
    /// <see cref="Dcnv3Params.Location{T}"/>.</summary>
    private readonly struct KernelGrid<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Dcnv3Params _parameters;
        private readonly T[] _pointX, _pointY;

        public KernelGrid(Dcnv3Params parameters)
        {
            _parameters = parameters;
            Scale = T.CreateChecked(parameters.OffsetScale);
            _pointX = new T[parameters.Points];
            _pointY = new T[parameters.Points];
            for (int p = 0; p < parameters.Points; p++)
            {
                _pointX[p] = T.CreateTruncating(parameters.KernelColumn(p) * parameters.Dilation.W - parameters.HalfW);
                _pointY[p] = T.CreateTruncating(parameters.KernelRow(p) * parameters.Dilation.H - parameters.HalfH);
            }
        }

        public T Scale { get; }

        public ZeroPaddedBilinear<T> Locate(Dcnv3Fields fields, T* offset, int row, int oy, int ox, int group, int point)
        {
            var pr = _parameters;
            int at = fields.OffsetX(row, group, point);
            T x = T.CreateTruncating(ox * pr.Stride.W - pr.Padding.W + pr.HalfW) + (_pointX[point] + offset[at]) * Scale;
            T y = T.CreateTruncating(oy * pr.Stride.H - pr.Padding.H + pr.HalfH) + (_pointY[point] + offset[at + 1]) * Scale;
            return new ZeroPaddedBilinear<T>(x, y, pr.Height, pr.Width);
        }
    }
}

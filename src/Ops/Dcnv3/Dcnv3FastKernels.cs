using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeformEngine.Kernels;

/// <summary>Fast kernels of <see cref="Functional.Dcnv3{T}"/> and <see cref="Functional.Dcnv4{T}"/>: the same
/// sums as <see cref="Dcnv3ReferenceKernels"/> up to rounding, with the position arithmetic written
/// identically (so a point on a kink lands on the same side). The input is already channels-last, so a
/// group's Cg channels at a corner are contiguous: each sampling point is located once and its corners are
/// applied to the group's channels as Vector256 runs with a scalar tail (fused multiply-adds in the same
/// order in both, so a channel's result does not depend on which computed it).
/// Work is split into fixed tasks that never depend on the thread count: the forward's tasks are output
/// rows (n, oy) and own those output elements; the backward's tasks are (image n, run of groups) and own those
/// groups' channels of ∂L/∂input[n] and their offsets and masks of image n, visiting positions and points in a
/// fixed order — so the input-gradient scatter needs no atomics and is bitwise reproducible (each group's
/// updates even come in the same order whatever the runs).</summary>
internal static unsafe class Dcnv3FastKernels
{
    /// <summary>out[n, oy, ox, g·Cg + c] = Σ_p Σ_q (m_p·g_q) · input[n, q, g·Cg + c], one task per output row.</summary>
    public static void Forward<T>(Dcnv3Params parameters, Dcnv3Fields fields, T[] input, T[] offset, T[] mask, T[] output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var grid = new KernelGrid<T>(parameters);
        var zeros = new T[parameters.GroupChannels];
        int registers = RegisterVectors<T>(parameters.GroupChannels);
        ParallelLoop.For(parameters.Batch * parameters.OutH, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int n = task / parameters.OutH, oy = task - n * parameters.OutH;
            int channels = parameters.Channels, groupChannels = parameters.GroupChannels, points = parameters.Points;
            // On the heap: the kernel (and so the table) is only bounded by the input's size. The register path
            // needs no table.
            var sourceTable = registers != 0 ? [] : new nint[4 * points];
            var weightTable = registers != 0 ? [] : new T[4 * points];
            fixed (nint* sources = sourceTable)
            fixed (T* weights = weightTable)
            fixed (T* image = &input[n * parameters.Height * parameters.Width * channels])
            fixed (T* zero = zeros)
            fixed (T* off = offset)
            fixed (T* msk = mask)
            fixed (T* outData = output)
            {
                for (int ox = 0; ox < parameters.OutW; ox++)
                {
                    int row = (n * parameters.OutH + oy) * parameters.OutW + ox;
                    for (int g = 0; g < parameters.Group; g++)
                    {
                        if (registers != 0)
                        {
                            SumInRegisters(outData + (long)row * channels + g * groupChannels, grid, fields, off, msk, image, zero,
                                row, oy, ox, g, points, parameters.Width, channels, groupChannels, registers);
                            continue;
                        }
                        int count = 0;
                        for (int p = 0; p < points; p++)
                        {
                            if (!grid.Locate(fields, off, row, oy, ox, g, p, out var corners)) continue;
                            T m = msk[fields.Mask(row, g, p)];
                            T* pixel = image + ((long)corners.Top * parameters.Width + corners.Left) * channels + g * groupChannels;
                            long down = (long)parameters.Width * channels;
                            // Four entries per point whatever the border, so that the sum runs one accumulator per
                            // corner; a corner outside the map reads the zeros with weight 0.
                            Add(sources, weights, ref count, corners.TopIn && corners.LeftIn, pixel, m * corners.Glt, zero);
                            Add(sources, weights, ref count, corners.TopIn && corners.RightIn, pixel + channels, m * corners.Grt, zero);
                            Add(sources, weights, ref count, corners.BottomIn && corners.LeftIn, pixel + down, m * corners.Glb, zero);
                            Add(sources, weights, ref count, corners.BottomIn && corners.RightIn, pixel + down + channels, m * corners.Grb, zero);
                        }
                        WeightedSum(outData + (long)row * channels + g * groupChannels, sources, weights, count, groupChannels);
                    }
                }
            }
        });
    }

    /// <summary>Vectors of the widest accelerated width that hold a group's channels exactly, when that is one or
    /// two (Cg = 16 or 32 floats with AVX-512, 8 or 16 with AVX2; half as many doubles); else 0 (the table path).
    /// Positive: 1 or 2 Vector512 vectors; negative: 1 or 2 Vector256 vectors.</summary>
    private static int RegisterVectors<T>(int groupChannels) where T : unmanaged
    {
        if (Vector512.IsHardwareAccelerated && groupChannels % Vector512<T>.Count == 0 && groupChannels / Vector512<T>.Count is 1 or 2)
            return groupChannels / Vector512<T>.Count;
        if (Vector256.IsHardwareAccelerated && groupChannels % Vector256<T>.Count == 0 && groupChannels / Vector256<T>.Count is 1 or 2)
            return -groupChannels / Vector256<T>.Count;
        return 0;
    }

    /// <summary>One output group's channels when they fit one or two vectors (<see cref="RegisterVectors{T}"/>): the
    /// same sums as the table path (<see cref="WeightedSum{T}"/>) — per lane one fused multiply-add chain per corner
    /// over the points in order, a corner outside the map adding 0·0, then (lt + rt) + (lb + rb) — kept in registers
    /// instead of going through the tables: the same operations per lane in the same order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SumInRegisters<T>(T* dest, KernelGrid<T> grid, Dcnv3Fields fields, T* off, T* msk, T* image, T* zero,
        int row, int oy, int ox, int g, int points, int width, int channels, int groupChannels, int registers)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long down = (long)width * channels;
        if (registers > 0)
        {
            Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            int next = Vector512<T>.Count;
            for (int p = 0; p < points; p++)
            {
                if (!PointSources<T>.Locate(grid, fields, off, msk, image, zero, row, oy, ox, g, p, width, channels, groupChannels, down, out var s))
                    continue;
                var w0 = Vector512.Create(s.W0);
                var w1 = Vector512.Create(s.W1);
                var w2 = Vector512.Create(s.W2);
                var w3 = Vector512.Create(s.W3);
                a0 = FusedVectors.MultiplyAdd(w0, Vector512.Load(s.S0), a0);
                a1 = FusedVectors.MultiplyAdd(w1, Vector512.Load(s.S1), a1);
                a2 = FusedVectors.MultiplyAdd(w2, Vector512.Load(s.S2), a2);
                a3 = FusedVectors.MultiplyAdd(w3, Vector512.Load(s.S3), a3);
                if (registers == 2)
                {
                    b0 = FusedVectors.MultiplyAdd(w0, Vector512.Load(s.S0 + next), b0);
                    b1 = FusedVectors.MultiplyAdd(w1, Vector512.Load(s.S1 + next), b1);
                    b2 = FusedVectors.MultiplyAdd(w2, Vector512.Load(s.S2 + next), b2);
                    b3 = FusedVectors.MultiplyAdd(w3, Vector512.Load(s.S3 + next), b3);
                }
            }
            ((a0 + a1) + (a2 + a3)).Store(dest);
            if (registers == 2)
                ((b0 + b1) + (b2 + b3)).Store(dest + next);
        }
        else
        {
            Vector256<T> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            int next = Vector256<T>.Count;
            for (int p = 0; p < points; p++)
            {
                if (!PointSources<T>.Locate(grid, fields, off, msk, image, zero, row, oy, ox, g, p, width, channels, groupChannels, down, out var s))
                    continue;
                var w0 = Vector256.Create(s.W0);
                var w1 = Vector256.Create(s.W1);
                var w2 = Vector256.Create(s.W2);
                var w3 = Vector256.Create(s.W3);
                a0 = FusedVectors.MultiplyAdd(w0, Vector256.Load(s.S0), a0);
                a1 = FusedVectors.MultiplyAdd(w1, Vector256.Load(s.S1), a1);
                a2 = FusedVectors.MultiplyAdd(w2, Vector256.Load(s.S2), a2);
                a3 = FusedVectors.MultiplyAdd(w3, Vector256.Load(s.S3), a3);
                if (registers == -2)
                {
                    b0 = FusedVectors.MultiplyAdd(w0, Vector256.Load(s.S0 + next), b0);
                    b1 = FusedVectors.MultiplyAdd(w1, Vector256.Load(s.S1 + next), b1);
                    b2 = FusedVectors.MultiplyAdd(w2, Vector256.Load(s.S2 + next), b2);
                    b3 = FusedVectors.MultiplyAdd(w3, Vector256.Load(s.S3 + next), b3);
                }
            }
            ((a0 + a1) + (a2 + a3)).Store(dest);
            if (registers == -2)
                ((b0 + b1) + (b2 + b3)).Store(dest + next);
        }
    }

    /// <summary>A located point's four corner rows of the group's channels and their weights m·g_q; a corner
    /// outside the map reads the zeros with weight 0, as in the table path.</summary>
    private readonly struct PointSources<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly T* S0, S1, S2, S3;
        public readonly T W0, W1, W2, W3;

        private PointSources(T* s0, T* s1, T* s2, T* s3, T w0, T w1, T w2, T w3)
        {
            S0 = s0;
            S1 = s1;
            S2 = s2;
            S3 = s3;
            (W0, W1, W2, W3) = (w0, w1, w2, w3);
        }

        /// <summary>False when no corner of the point lies in the map.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Locate(KernelGrid<T> grid, Dcnv3Fields fields, T* off, T* msk, T* image, T* zero, int row, int oy, int ox,
            int g, int p, int width, int channels, int groupChannels, long down, out PointSources<T> sources)
        {
            if (!grid.Locate(fields, off, row, oy, ox, g, p, out var corners))
            {
                sources = default;
                return false;
            }
            T m = msk[fields.Mask(row, g, p)];
            T* pixel = image + ((long)corners.Top * width + corners.Left) * channels + g * groupChannels;
            bool lt = corners.TopIn && corners.LeftIn, rt = corners.TopIn && corners.RightIn;
            bool lb = corners.BottomIn && corners.LeftIn, rb = corners.BottomIn && corners.RightIn;
            sources = new PointSources<T>(lt ? pixel : zero, rt ? pixel + channels : zero, lb ? pixel + down : zero,
                rb ? pixel + down + channels : zero, lt ? m * corners.Glt : T.Zero, rt ? m * corners.Grt : T.Zero,
                lb ? m * corners.Glb : T.Zero, rb ? m * corners.Grb : T.Zero);
            return true;
        }
    }

    /// <summary>Backward tasks wanted at least, whatever the thread count: an image's groups are split into
    /// ⌈this / N⌉ runs (one task each) and no further, because a task that walks many groups uses each cache
    /// line of the channels-last tensors whole, where one group per task reads a sixteen-channel slice per line
    /// and refetches the lines it shares with the next group (measured on 56×56, C = 128, G = 8: backward 1.5×
    /// slower with one group per task than on 14×14 maps holding the same number of points).</summary>
    private const int BackwardTasks = 4;

    /// <summary>The backward, one task per (image, run of groups): per sampling point S_q = Σ_c u[c]·v_q[c] over the
    /// group's channels (u = ∂L/∂out), then ∂L/∂m = Σ_q g_q·S_q, ∂L/∂Δx = s·m·Σ_q (∂g_q/∂x)·S_q (Δy
    /// likewise), and ∂L/∂input[q] += m·g_q·u in the same pass over the channels. Null destinations are
    /// skipped; the offset and mask destinations may be one array (DCNv4). The kernel writes every element of
    /// ∂L/∂input and every entry of the offset and mask destinations (DCNv4's padding included), so they may arrive
    /// uninitialised.</summary>
    public static void Backward<T>(Dcnv3Params parameters, Dcnv3Fields fields, T[] gradOutput, T[] input, T[] offset, T[] mask,
        T[]? gradInput, T[]? gradOffset, T[]? gradMask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var grid = new KernelGrid<T>(parameters);
        int groupChannels = parameters.GroupChannels;
        // Corners outside the map read these zeros and scatter into a task's own sink, so the vector loop
        // has no branches.
        var zeros = new T[groupChannels];
        bool wantSums = gradOffset is not null || gradMask is not null;
        int runsPerImage = Math.Clamp((BackwardTasks + parameters.Batch - 1) / parameters.Batch, 1, parameters.Group);
        int groupsPerRun = (parameters.Group + runsPerImage - 1) / runsPerImage;
        runsPerImage = (parameters.Group + groupsPerRun - 1) / groupsPerRun;
        ParallelLoop.For(parameters.Batch * runsPerImage, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            // Image fastest: tasks that run at the same time work on different images where there are several, so
            // they do not write the same cache lines (an image's neighbouring groups share the lines at their border).
            int n = task % parameters.Batch, firstGroup = task / parameters.Batch * groupsPerRun;
            int endGroup = Math.Min(firstGroup + groupsPerRun, parameters.Group);
            int channels = parameters.Channels, plane = parameters.Height * parameters.Width;
            var sink = new T[groupChannels];
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
                // The input gradient arrives uninitialised: the task clears its own channels of image n first (in
                // parallel, and into the cache just before it adds into them).
                if (gradImageN != null)
                    for (long pixel = 0; pixel < plane; pixel++)
                        new Span<T>(gradImageN + pixel * channels + firstGroup * groupChannels, (endGroup - firstGroup) * groupChannels).Clear();
                // A packed row's padding (DCNv4: the entries after the last group's) belongs to no point: the image's first
                // run clears it.
                int paddingStart = parameters.Group * fields.OffsetGroup;
                if (gOff != null && firstGroup == 0 && fields.OffsetRow > paddingStart)
                    for (int row = n * parameters.OutH * parameters.OutW, end = row + parameters.OutH * parameters.OutW; row < end; row++)
                        new Span<T>(gOff + (long)row * fields.OffsetRow + paddingStart, fields.OffsetRow - paddingStart).Clear();
                for (int oy = 0; oy < parameters.OutH; oy++)
                    for (int ox = 0; ox < parameters.OutW; ox++)
                    {
                        int row = (n * parameters.OutH + oy) * parameters.OutW + ox;
                        for (int g = firstGroup; g < endGroup; g++)
                        {
                            T* upstream = upstreamData + (long)row * channels + g * groupChannels;
                            for (int p = 0; p < parameters.Points; p++)
                            {
                                // NOTE: a point with no corner in the map read 0 whatever its offset and mask: its
                                // gradients stay 0 (even for a non-finite mask).
                                if (!grid.Locate(fields, off, row, oy, ox, g, p, out var corners))
                                {
                                    // The offset and mask gradients arrive uninitialised too.
                                    if (gOff != null)
                                    {
                                        int offsetAt = fields.OffsetX(row, g, p);
                                        gOff[offsetAt] = gOff[offsetAt + 1] = T.Zero;
                                    }
                                    if (gMask != null) gMask[fields.Mask(row, g, p)] = T.Zero;
                                    continue;
                                }
                                T m = msk[fields.Mask(row, g, p)];
                                long at = ((long)corners.Top * parameters.Width + corners.Left) * channels + g * groupChannels;
                                long down = (long)parameters.Width * channels;
                                T* pixel = image + at;
                                T* gradPixel = gradImageN == null ? sinkData : gradImageN + at;
                                long gradStep = gradImageN == null ? 0 : channels, gradDown = gradImageN == null ? 0 : down;
                                bool lt = corners.TopIn && corners.LeftIn, rt = corners.TopIn && corners.RightIn;
                                bool lb = corners.BottomIn && corners.LeftIn, rb = corners.BottomIn && corners.RightIn;
                                PointStep(upstream, groupChannels, wantSums, gradImageN != null, corners,
                                    lt ? pixel : zero, rt ? pixel + channels : zero, lb ? pixel + down : zero, rb ? pixel + down + channels : zero,
                                    lt ? gradPixel : sinkData, rt ? gradPixel + gradStep : sinkData, lb ? gradPixel + gradDown : sinkData,
                                    rb ? gradPixel + gradDown + gradStep : sinkData,
                                    m * corners.Glt, m * corners.Grt, m * corners.Glb, m * corners.Grb, out T sumMask, out T sumX, out T sumY);
                                if (!wantSums) continue;
                                if (gOff != null)
                                {
                                    int offsetAt = fields.OffsetX(row, g, p);
                                    // NOTE: x = … + Δx·s, so ∂x/∂Δx = s (offsetScale).
                                    gOff[offsetAt] = grid.Scale * m * sumX;
                                    gOff[offsetAt + 1] = grid.Scale * m * sumY;
                                }
                                if (gMask != null) gMask[fields.Mask(row, g, p)] = sumMask;
                            }
                        }
                    }
            }
        });
    }

    /// <summary>dest[c] = Σ_e weights[e]·sources[e][c] for c &lt; length over entries that come in fours (one
    /// per corner): one accumulator per corner, added as (lt + rt) + (lb + rb) at the end, so that the four
    /// multiply-add chains run side by side.</summary>
    private static void WeightedSum<T>(T* dest, nint* sources, T* weights, int count, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int c = 0, width = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; c <= length - width; c += width)
            {
                Vector256<T> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int e = 0; e < count; e += 4)
                {
                    a0 = FusedVectors.MultiplyAdd(Vector256.Create(weights[e]), Vector256.Load((T*)sources[e] + c), a0);
                    a1 = FusedVectors.MultiplyAdd(Vector256.Create(weights[e + 1]), Vector256.Load((T*)sources[e + 1] + c), a1);
                    a2 = FusedVectors.MultiplyAdd(Vector256.Create(weights[e + 2]), Vector256.Load((T*)sources[e + 2] + c), a2);
                    a3 = FusedVectors.MultiplyAdd(Vector256.Create(weights[e + 3]), Vector256.Load((T*)sources[e + 3] + c), a3);
                }
                ((a0 + a1) + (a2 + a3)).Store(dest + c);
            }
        }
        for (; c < length; c++)
        {
            T a0 = T.Zero, a1 = T.Zero, a2 = T.Zero, a3 = T.Zero;
            for (int e = 0; e < count; e += 4)
            {
                a0 = T.FusedMultiplyAdd(weights[e], ((T*)sources[e])[c], a0);
                a1 = T.FusedMultiplyAdd(weights[e + 1], ((T*)sources[e + 1])[c], a1);
                a2 = T.FusedMultiplyAdd(weights[e + 2], ((T*)sources[e + 2])[c], a2);
                a3 = T.FusedMultiplyAdd(weights[e + 3], ((T*)sources[e + 3])[c], a3);
            }
            dest[c] = (a0 + a1) + (a2 + a3);
        }
    }

    /// <summary>One sampling point's pass over a group's channels. When <paramref name="wantSums"/>, with
    /// S_q = Σ_c upstream[c]·v_q[c]: sumMask = Σ_q g_q·S_q, sumX = (1−ly)(S_rt − S_lt) + ly(S_rb − S_lb),
    /// sumY = (1−lx)(S_lb − S_lt) + lx(S_rb − S_rt), combined per lane before the lanes are added, then the
    /// scalar tail. When <paramref name="scatter"/>, t_q[c] += w_q·upstream[c] on the way.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PointStep<T>(T* upstream, int length, bool wantSums, bool scatter, in Corners<T> corners,
        T* v0, T* v1, T* v2, T* v3, T* t0, T* t1, T* t2, T* t3, T w0, T w1, T w2, T w3, out T sumMask, out T sumX, out T sumY)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T oneMinusLx = T.One - corners.Lx, oneMinusLy = T.One - corners.Ly;
        sumMask = sumX = sumY = T.Zero;
        int c = 0, width = Vector256<T>.Count;
        if (Vector256.IsHardwareAccelerated && length >= width)
        {
            Vector256<T> a0 = default, a1 = default, a2 = default, a3 = default;
            if (wantSums && scatter)
            {
                var b0 = Vector256.Create(w0);
                var b1 = Vector256.Create(w1);
                var b2 = Vector256.Create(w2);
                var b3 = Vector256.Create(w3);
                for (; c <= length - width; c += width)
                {
                    var u = Vector256.Load(upstream + c);
                    a0 = FusedVectors.MultiplyAdd(u, Vector256.Load(v0 + c), a0);
                    a1 = FusedVectors.MultiplyAdd(u, Vector256.Load(v1 + c), a1);
                    a2 = FusedVectors.MultiplyAdd(u, Vector256.Load(v2 + c), a2);
                    a3 = FusedVectors.MultiplyAdd(u, Vector256.Load(v3 + c), a3);
                    FusedVectors.MultiplyAdd(b0, u, Vector256.Load(t0 + c)).Store(t0 + c);
                    FusedVectors.MultiplyAdd(b1, u, Vector256.Load(t1 + c)).Store(t1 + c);
                    FusedVectors.MultiplyAdd(b2, u, Vector256.Load(t2 + c)).Store(t2 + c);
                    FusedVectors.MultiplyAdd(b3, u, Vector256.Load(t3 + c)).Store(t3 + c);
                }
            }
            else if (wantSums)
            {
                for (; c <= length - width; c += width)
                {
                    var u = Vector256.Load(upstream + c);
                    a0 = FusedVectors.MultiplyAdd(u, Vector256.Load(v0 + c), a0);
                    a1 = FusedVectors.MultiplyAdd(u, Vector256.Load(v1 + c), a1);
                    a2 = FusedVectors.MultiplyAdd(u, Vector256.Load(v2 + c), a2);
                    a3 = FusedVectors.MultiplyAdd(u, Vector256.Load(v3 + c), a3);
                }
            }
            else if (scatter)
            {
                var b0 = Vector256.Create(w0);
                var b1 = Vector256.Create(w1);
                var b2 = Vector256.Create(w2);
                var b3 = Vector256.Create(w3);
                for (; c <= length - width; c += width)
                {
                    var u = Vector256.Load(upstream + c);
                    FusedVectors.MultiplyAdd(b0, u, Vector256.Load(t0 + c)).Store(t0 + c);
                    FusedVectors.MultiplyAdd(b1, u, Vector256.Load(t1 + c)).Store(t1 + c);
                    FusedVectors.MultiplyAdd(b2, u, Vector256.Load(t2 + c)).Store(t2 + c);
                    FusedVectors.MultiplyAdd(b3, u, Vector256.Load(t3 + c)).Store(t3 + c);
                }
            }
            else
            {
                c = length - length % width;
            }
            if (wantSums)
                SumLanes(Vector256.Create(corners.Glt) * a0 + Vector256.Create(corners.Grt) * a1
                        + Vector256.Create(corners.Glb) * a2 + Vector256.Create(corners.Grb) * a3,
                    Vector256.Create(oneMinusLy) * (a1 - a0) + Vector256.Create(corners.Ly) * (a3 - a2),
                    Vector256.Create(oneMinusLx) * (a2 - a0) + Vector256.Create(corners.Lx) * (a3 - a1),
                    out sumMask, out sumX, out sumY);
        }
        for (; c < length; c++)
        {
            T u = upstream[c];
            if (wantSums)
            {
                T s0 = u * v0[c], s1 = u * v1[c], s2 = u * v2[c], s3 = u * v3[c];
                sumMask += corners.Glt * s0 + corners.Grt * s1 + corners.Glb * s2 + corners.Grb * s3;
                sumX += oneMinusLy * (s1 - s0) + corners.Ly * (s3 - s2);
                sumY += oneMinusLx * (s2 - s0) + corners.Lx * (s3 - s1);
            }
            if (scatter)
            {
                t0[c] = T.FusedMultiplyAdd(w0, u, t0[c]);
                t1[c] = T.FusedMultiplyAdd(w1, u, t1[c]);
                t2[c] = T.FusedMultiplyAdd(w2, u, t2[c]);
                t3[c] = T.FusedMultiplyAdd(w3, u, t3[c]);
            }
        }
    }

    /// <summary>The lane sums of three vectors through one network of horizontal adds where AVX has them (one
    /// pass instead of three reductions; the order is fixed either way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SumLanes<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c, out T sumA, out T sumB, out T sumC)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Avx.IsSupported && typeof(T) == typeof(float))
        {
            // [a01, a23, b01, b23 | a45, a67, b45, b67], [c01, c23, c01, c23 | …] → [a0123, b0123, c0123, c0123 | a4567, …].
            var pairs = Avx.HorizontalAdd(Avx.HorizontalAdd(a.AsSingle(), b.AsSingle()), Avx.HorizontalAdd(c.AsSingle(), c.AsSingle()));
            var sums = (pairs.GetLower() + pairs.GetUpper()).As<float, T>();
            (sumA, sumB, sumC) = (sums.GetElement(0), sums.GetElement(1), sums.GetElement(2));
            return;
        }
        if (Avx.IsSupported && typeof(T) == typeof(double))
        {
            // [a01, b01 | a23, b23] and [c01, c01 | c23, c23].
            var ab = Avx.HorizontalAdd(a.AsDouble(), b.AsDouble());
            var cc = Avx.HorizontalAdd(c.AsDouble(), c.AsDouble());
            var sumsAb = (ab.GetLower() + ab.GetUpper()).As<double, T>();
            (sumA, sumB, sumC) = (sumsAb.GetElement(0), sumsAb.GetElement(1), (cc.GetLower() + cc.GetUpper()).As<double, T>().GetElement(0));
            return;
        }
        (sumA, sumB, sumC) = (Vector256.Sum(a), Vector256.Sum(b), Vector256.Sum(c));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add<T>(nint* sources, T* weights, ref int count, bool inMap, T* source, T weight, T* zero)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        sources[count] = (nint)(inMap ? source : zero);
        weights[count++] = inMap ? weight : T.Zero;
    }

    /// <summary>A located sampling point: the top-left corner, the fractional parts, which corner rows and
    /// columns lie in the map, and the coefficients g_q = (1−ly or ly)·(1−lx or lx) as
    /// <see cref="ZeroPaddedBilinear{T}.Weight"/> forms them.</summary>
    private readonly struct Corners<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly int Left, Top;
        public readonly T Lx, Ly, Glt, Grt, Glb, Grb;
        public readonly bool LeftIn, RightIn, TopIn, BottomIn;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Corners(int left, int top, T lx, T ly, int height, int width)
        {
            Left = left;
            Top = top;
            Lx = lx;
            Ly = ly;
            T oneMinusLx = T.One - lx, oneMinusLy = T.One - ly;
            Glt = oneMinusLy * oneMinusLx;
            Grt = oneMinusLy * lx;
            Glb = ly * oneMinusLx;
            Grb = ly * lx;
            LeftIn = left >= 0;
            RightIn = left + 1 < width;
            TopIn = top >= 0;
            BottomIn = top + 1 < height;
        }
    }

    /// <summary>The kernel's point offsets i·dilW − halfW and j·dilH − halfH and the scale in T, computed once
    /// per call; <see cref="Locate"/> then forms the position with the very operations of
    /// <see cref="Dcnv3Params.Location{T}"/> and applies the border rule of <see cref="ZeroPaddedBilinear{T}"/>.</summary>
    private sealed class KernelGrid<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly T[] _pointX, _pointY, _baseX, _baseY;
        private readonly T _width, _height;
        private readonly int _widthPixels, _heightPixels;

        public KernelGrid(Dcnv3Params parameters)
        {
            Scale = T.CreateChecked(parameters.OffsetScale);
            _pointX = new T[parameters.Points];
            _pointY = new T[parameters.Points];
            for (int p = 0; p < parameters.Points; p++)
            {
                _pointX[p] = T.CreateTruncating(parameters.KernelColumn(p) * parameters.Dilation.W - parameters.HalfW);
                _pointY[p] = T.CreateTruncating(parameters.KernelRow(p) * parameters.Dilation.H - parameters.HalfH);
            }
            _baseX = new T[parameters.OutW];
            for (int ox = 0; ox < parameters.OutW; ox++)
                _baseX[ox] = T.CreateTruncating(ox * parameters.Stride.W - parameters.Padding.W + parameters.HalfW);
            _baseY = new T[parameters.OutH];
            for (int oy = 0; oy < parameters.OutH; oy++)
                _baseY[oy] = T.CreateTruncating(oy * parameters.Stride.H - parameters.Padding.H + parameters.HalfH);
            _widthPixels = parameters.Width;
            _heightPixels = parameters.Height;
            _width = T.CreateTruncating(parameters.Width);
            _height = T.CreateTruncating(parameters.Height);
        }

        public T Scale { get; }

        /// <summary>A whole number in [−1, size) to int: one truncating conversion, without the saturation that
        /// int.CreateTruncating adds for values this caller never passes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int ToInt(T whole)
        {
            if (Sse.IsSupported && typeof(T) == typeof(float))
                return Sse.ConvertToInt32WithTruncation(Vector128.CreateScalarUnsafe(Unsafe.As<T, float>(ref whole)));
            if (Sse2.IsSupported && typeof(T) == typeof(double))
                return Sse2.ConvertToInt32WithTruncation(Vector128.CreateScalarUnsafe(Unsafe.As<T, double>(ref whole)));
            return int.CreateTruncating(whole);
        }

        /// <summary>False when no corner of the point lies in the map (or the position is not finite).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Locate(Dcnv3Fields fields, T* offset, int row, int oy, int ox, int group, int point, out Corners<T> corners)
        {
            int at = fields.OffsetX(row, group, point);
            // The callers' loops keep ox, oy and point in range; unchecked reads keep bounds checks out of the hot loop.
            T x = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_baseX), ox)
                  + (Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_pointX), point) + offset[at]) * Scale;
            T y = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_baseY), oy)
                  + (Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_pointY), point) + offset[at + 1]) * Scale;
            if (!(x >= -T.One && x < _width && y >= -T.One && y < _height))
            {
                corners = default;
                return false;
            }
            T left = T.Floor(x), top = T.Floor(y);
            corners = new Corners<T>(ToInt(left), ToInt(top), x - left, y - top, _heightPixels, _widthPixels);
            return true;
        }
    }
}

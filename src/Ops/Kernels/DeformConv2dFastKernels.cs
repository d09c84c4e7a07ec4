using System.Runtime.Intrinsics;

namespace DeformEngine.Kernels;

/// <summary>Fast kernels of <see cref="Functional.DeformConv2d{T}"/> for a <see cref="DeformChunk"/>
/// of images; same results as <see cref="DeformConv2dKernels"/> up to rounding. Columns are
/// [C·kh·kw, chunk·L] (row (c·kh + i)·kw + j, column b·L + l).
/// Work is split into fixed tasks that never depend on the thread count:
/// sampling tasks are (offset group g, kernel point k, block of <see cref="ColumnBlock"/> columns) and
/// own rows c·K + k of the group's channels and entries (g, k) of the offset and mask gradients;
/// the input-gradient scatter tasks are (image, channel) and own one plane. Within a sampling task a
/// vector of 8 (float) or 4 (double) positions is located once — corner index and coefficients —
/// and then the channel loop gathers the four corners of every channel of the group with those
/// registers. The backward's sums over channels run channel by channel in one task, in order.</summary>
internal static unsafe class DeformConv2dFastKernels
{
    /// <summary>Columns per sampling task: a multiple of every vector width, so only the chunk's last
    /// block has a scalar tail.</summary>
    public const int ColumnBlock = 128;

    private static int Blocks(in DeformChunk chunk) => (chunk.Columns + ColumnBlock - 1) / ColumnBlock;

    /// <summary>Copies the chunk's images into its zero-bordered planes (see <see cref="DeformChunk"/>).</summary>
    public static void PadImages<T>(DeformChunk chunk, T[] input, Memory<T> padded)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = chunk.Dp.Conv;
        int h = cp.Height, w = cp.Width, wp = chunk.PaddedWidth;
        ParallelLoop.For(chunk.Images * cp.InChannels, task =>
        {
            var source = input.AsSpan(((chunk.First * cp.InChannels) + task) * h * w, h * w);
            var plane = padded.Span.Slice(task * chunk.PaddedPlane, chunk.PaddedPlane);
            plane[..wp].Clear();
            for (int y = 0; y < h; y++)
            {
                var row = plane.Slice((y + 1) * wp, wp);
                row[0] = T.Zero;
                source.Slice(y * w, w).CopyTo(row[1..]);
                row[w + 1] = T.Zero;
            }
            plane[((h + 1) * wp)..].Clear();
        });
    }

    /// <summary>columns[c·K + k, b·L + l] = m · bilinear(image b, channel c, p).</summary>
    public static void Im2Col<T>(DeformChunk chunk, ReadOnlyMemory<T> padded, T[] offset, T[]? mask, Memory<T> columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int blocks = Blocks(chunk), k = chunk.K;
        ParallelLoop.For(chunk.Dp.OffsetGroups * k * blocks, task =>
        {
            int block = task % blocks, gk = task / blocks;
            Im2ColBlock(chunk, gk / k, gk % k, block * ColumnBlock, Math.Min((block + 1) * ColumnBlock, chunk.Columns),
                padded.Span, offset, mask, columns.Span);
        });
    }

    private static void Im2ColBlock<T>(in DeformChunk chunk, int g, int k, int start, int end,
        ReadOnlySpan<T> padded, T[] offset, T[]? mask, Span<T> columns) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ld = chunk.Columns, rowStride = chunk.K * ld, wp = chunk.PaddedWidth, plane = chunk.PaddedPlane;
        int channels = chunk.ChannelsPerGroup;
        fixed (T* pad = padded)
        fixed (T* off = offset)
        fixed (T* msk = mask)
        fixed (T* col = columns)
        {
            T* firstRow = col + (long)(g * channels * chunk.K + k) * ld;
            int column = start;
            if (SimdGather.IsSupported)
            {
                int lanes = SimdGather.Lanes<T>();
                int* index = stackalloc int[8];
                T* weight = stackalloc T[4 * 8];
                for (; column + lanes <= end; column += lanes)
                {
                    for (int lane = 0; lane < lanes; lane++)
                    {
                        var s = chunk.Locate(off, msk, g, k, column + lane);
                        index[lane] = s.Index;
                        weight[lane] = s.Mask * s.Glt;
                        weight[8 + lane] = s.Mask * s.Grt;
                        weight[16 + lane] = s.Mask * s.Glb;
                        weight[24 + lane] = s.Mask * s.Grb;
                    }
                    var at = Vector256.Load(index);
                    var w0 = Vector256.Load(weight);
                    var w1 = Vector256.Load(weight + 8);
                    var w2 = Vector256.Load(weight + 16);
                    var w3 = Vector256.Load(weight + 24);
                    T* source = pad;
                    T* dest = firstRow + column;
                    for (int c = 0; c < channels; c++, source += plane, dest += rowStride)
                    {
                        var sum = w0 * SimdGather.Gather(source, at);
                        sum = SimdGather.MultiplyAdd(w1, SimdGather.Gather(source + 1, at), sum);
                        sum = SimdGather.MultiplyAdd(w2, SimdGather.Gather(source + wp, at), sum);
                        sum = SimdGather.MultiplyAdd(w3, SimdGather.Gather(source + wp + 1, at), sum);
                        sum.Store(dest);
                    }
                }
            }
            for (; column < end; column++)
            {
                var s = chunk.Locate(off, msk, g, k, column);
                T w0 = s.Mask * s.Glt, w1 = s.Mask * s.Grt, w2 = s.Mask * s.Glb, w3 = s.Mask * s.Grb;
                T* source = pad + s.Index;
                T* dest = firstRow + column;
                for (int c = 0; c < channels; c++, source += plane, dest += rowStride)
                {
                    T sum = w0 * source[0];
                    sum = T.FusedMultiplyAdd(w1, source[1], sum);
                    sum = T.FusedMultiplyAdd(w2, source[wp], sum);
                    *dest = T.FusedMultiplyAdd(w3, source[wp + 1], sum);
                }
            }
        }
    }

    /// <summary>The backward's pass over the sampling points, given ∂L/∂columns of the chunk. Per
    /// point it accumulates S_q = Σ_c ∂L/∂col · v_q over the group's channels and then writes
    /// gradMask = Σ_q g_q·S_q and gradOffset = m·(∂g/∂y · S, ∂g/∂x · S). Optionally it also writes the
    /// columns (for the weight gradient; the corners are loaded anyway) and the coefficient table
    /// [G, K, (index | 4 weights m·g_q), chunk·L] that <see cref="ScatterInputGradient{T}"/> reads.
    /// Empty / null destinations are skipped.</summary>
    public static void SamplingGradients<T>(DeformChunk chunk, ReadOnlyMemory<T> padded, T[] offset, T[]? mask,
        ReadOnlyMemory<T> gradColumns, Memory<T> columns, Memory<int> tableIndex, Memory<T> tableWeights,
        T[]? gradOffset, T[]? gradMask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int blocks = Blocks(chunk), k = chunk.K;
        ParallelLoop.For(chunk.Dp.OffsetGroups * k * blocks, task =>
        {
            int block = task % blocks, gk = task / blocks;
            var destinations = new SamplingDestinations<T>(columns.Span, tableIndex.Span, tableWeights.Span, gradOffset, gradMask);
            SamplingGradientsBlock(chunk, gk / k, gk % k, block * ColumnBlock, Math.Min((block + 1) * ColumnBlock, chunk.Columns),
                padded.Span, offset, mask, gradColumns.Span, destinations);
        });
    }

    private readonly ref struct SamplingDestinations<T>(Span<T> columns, Span<int> tableIndex, Span<T> tableWeights, T[]? gradOffset, T[]? gradMask)
    {
        public readonly Span<T> Columns = columns;
        public readonly Span<int> TableIndex = tableIndex;
        public readonly Span<T> TableWeights = tableWeights;
        public readonly T[]? GradOffset = gradOffset;
        public readonly T[]? GradMask = gradMask;
    }

    private static void SamplingGradientsBlock<T>(in DeformChunk chunk, int g, int k, int start, int end,
        ReadOnlySpan<T> padded, T[] offset, T[]? mask, ReadOnlySpan<T> gradColumns, in SamplingDestinations<T> to)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int ld = chunk.Columns, rowStride = chunk.K * ld, wp = chunk.PaddedWidth, plane = chunk.PaddedPlane;
        int channels = chunk.ChannelsPerGroup;
        bool wantColumns = !to.Columns.IsEmpty, wantTable = !to.TableIndex.IsEmpty;
        bool wantSums = to.GradOffset is not null || to.GradMask is not null;
        long firstRowOffset = (long)(g * channels * chunk.K + k) * ld;
        int fieldRow = (g * chunk.K + k) * ld;
        fixed (T* pad = padded)
        fixed (T* off = offset)
        fixed (T* msk = mask)
        fixed (T* gradCol = gradColumns)
        fixed (T* col = to.Columns)
        fixed (int* tIndex = to.TableIndex)
        fixed (T* tWeight = to.TableWeights)
        fixed (T* gOff = to.GradOffset)
        fixed (T* gMask = to.GradMask)
        {
            var samples = stackalloc DeformSample<T>[8];
            int* index = stackalloc int[8];
            T* weight = stackalloc T[4 * 8];
            T* sums = stackalloc T[4 * 8];
            int column = start;
            int lanes = SimdGather.IsSupported ? SimdGather.Lanes<T>() : 0;
            while (column < end)
            {
                // A vector of positions, or a single one for the chunk's scalar tail.
                bool vector = lanes > 0 && end - column >= lanes;
                int count = vector ? lanes : 1;
                for (int lane = 0; lane < count; lane++)
                {
                    var s = samples[lane] = chunk.Locate(off, msk, g, k, column + lane);
                    index[lane] = s.Index;
                    weight[lane] = s.Mask * s.Glt;
                    weight[8 + lane] = s.Mask * s.Grt;
                    weight[16 + lane] = s.Mask * s.Glb;
                    weight[24 + lane] = s.Mask * s.Grb;
                    if (wantTable)
                    {
                        int at = column + lane;
                        tIndex[fieldRow + at] = s.Index;
                        for (int q = 0; q < 4; q++) tWeight[4L * fieldRow + (long)q * ld + at] = weight[8 * q + lane];
                    }
                }
                if (wantColumns || wantSums)
                {
                    T* upstream = gradCol + firstRowOffset + column;
                    T* dest = wantColumns ? col + firstRowOffset + column : null;
                    if (vector)
                        VectorChannelLoop(pad, index, weight, upstream, dest, sums, channels, plane, wp, rowStride, wantSums);
                    else
                        ScalarChannelLoop(pad, index, weight, upstream, dest, sums, channels, plane, wp, rowStride, wantSums);
                    if (wantSums)
                        for (int lane = 0; lane < count; lane++)
                            WriteCoordinateGradients(chunk, samples[lane], g, k, column + lane,
                                sums[lane], sums[8 + lane], sums[16 + lane], sums[24 + lane], gOff, gMask);
                }
                column += count;
            }
        }
    }

    private static void VectorChannelLoop<T>(T* pad, int* index, T* weight, T* upstream, T* dest, T* sums,
        int channels, int plane, int wp, int rowStride, bool wantSums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var at = Vector256.Load(index);
        var w0 = Vector256.Load(weight);
        var w1 = Vector256.Load(weight + 8);
        var w2 = Vector256.Load(weight + 16);
        var w3 = Vector256.Load(weight + 24);
        Vector256<T> s0 = default, s1 = default, s2 = default, s3 = default;
        T* source = pad;
        for (int c = 0; c < channels; c++, source += plane, upstream += rowStride)
        {
            var v0 = SimdGather.Gather(source, at);
            var v1 = SimdGather.Gather(source + 1, at);
            var v2 = SimdGather.Gather(source + wp, at);
            var v3 = SimdGather.Gather(source + wp + 1, at);
            if (dest != null)
            {
                var sum = w0 * v0;
                sum = SimdGather.MultiplyAdd(w1, v1, sum);
                sum = SimdGather.MultiplyAdd(w2, v2, sum);
                SimdGather.MultiplyAdd(w3, v3, sum).Store(dest);
                dest += rowStride;
            }
            if (wantSums)
            {
                var u = Vector256.Load(upstream);
                s0 = SimdGather.MultiplyAdd(u, v0, s0);
                s1 = SimdGather.MultiplyAdd(u, v1, s1);
                s2 = SimdGather.MultiplyAdd(u, v2, s2);
                s3 = SimdGather.MultiplyAdd(u, v3, s3);
            }
        }
        s0.Store(sums);
        s1.Store(sums + 8);
        s2.Store(sums + 16);
        s3.Store(sums + 24);
    }

    private static void ScalarChannelLoop<T>(T* pad, int* index, T* weight, T* upstream, T* dest, T* sums,
        int channels, int plane, int wp, int rowStride, bool wantSums) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T w0 = weight[0], w1 = weight[8], w2 = weight[16], w3 = weight[24];
        T s0 = T.Zero, s1 = T.Zero, s2 = T.Zero, s3 = T.Zero;
        T* source = pad + index[0];
        for (int c = 0; c < channels; c++, source += plane, upstream += rowStride)
        {
            T v0 = source[0], v1 = source[1], v2 = source[wp], v3 = source[wp + 1];
            if (dest != null)
            {
                T sum = w0 * v0;
                sum = T.FusedMultiplyAdd(w1, v1, sum);
                sum = T.FusedMultiplyAdd(w2, v2, sum);
                *dest = T.FusedMultiplyAdd(w3, v3, sum);
                dest += rowStride;
            }
            if (wantSums)
            {
                T u = *upstream;
                s0 = T.FusedMultiplyAdd(u, v0, s0);
                s1 = T.FusedMultiplyAdd(u, v1, s1);
                s2 = T.FusedMultiplyAdd(u, v2, s2);
                s3 = T.FusedMultiplyAdd(u, v3, s3);
            }
        }
        sums[0] = s0;
        sums[8] = s1;
        sums[16] = s2;
        sums[24] = s3;
    }

    /// <summary>gradMask = Σ_q g_q·S_q; gradOffset (dy, dx) = m·((1−lx)(S_lb − S_lt) + lx(S_rb − S_rt),
    /// (1−ly)(S_rt − S_lt) + ly(S_rb − S_lb)), with S_q = Σ_c ∂L/∂col · v_q.</summary>
    private static void WriteCoordinateGradients<T>(in DeformChunk chunk, in DeformSample<T> s, int g, int k, int column,
        T sLt, T sRt, T sLb, T sRb, T* gradOffset, T* gradMask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int b = column / chunk.L, l = column - b * chunk.L;
        long field = ((long)(chunk.First + b) * chunk.Dp.OffsetGroups + g) * chunk.K + k;
        // NOTE: a point outside the box sampled 0 whatever its offset: all its gradients are 0
        // (tested explicitly so that a non-finite mask cannot turn 0 · S into NaN).
        T dm = T.Zero, dy = T.Zero, dx = T.Zero;
        if (s.Inside)
        {
            dm = s.Glt * sLt + s.Grt * sRt + s.Glb * sLb + s.Grb * sRb;
            dy = s.Mask * ((T.One - s.Lx) * (sLb - sLt) + s.Lx * (sRb - sRt));
            dx = s.Mask * ((T.One - s.Ly) * (sRt - sLt) + s.Ly * (sRb - sLb));
        }
        if (gradOffset != null)
        {
            gradOffset[2 * field * chunk.L + l] = dy;
            gradOffset[(2 * field + 1) * chunk.L + l] = dx;
        }
        if (gradMask != null) gradMask[field * chunk.L + l] = dm;
    }

    /// <summary>gradInput[b, c] = Σ_{k, l} Σ_q (m·g_q) · ∂L/∂col[c·K + k, b·L + l] at corner q, from the
    /// coefficient table of <see cref="SamplingGradients{T}"/>. Each task owns one (image, channel)
    /// plane and adds in a fixed order (k, then l, then the corners) into a zero-bordered scratch
    /// plane, whose border absorbs the corners outside the image.</summary>
    public static void ScatterInputGradient<T>(DeformChunk chunk, ReadOnlyMemory<T> gradColumns,
        ReadOnlyMemory<int> tableIndex, ReadOnlyMemory<T> tableWeights, T[] gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = chunk.Dp.Conv.InChannels;
        ParallelLoop.For(chunk.Images * channels, () => new T[chunk.PaddedPlane], (task, scratch) =>
            ScatterPlane(chunk, task / channels, task % channels, gradColumns.Span, tableIndex.Span, tableWeights.Span, scratch, gradInput));
    }

    private static void ScatterPlane<T>(in DeformChunk chunk, int b, int c, ReadOnlySpan<T> gradColumns,
        ReadOnlySpan<int> tableIndex, ReadOnlySpan<T> tableWeights, T[] scratch, T[] gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = chunk.Dp.Conv;
        int ld = chunk.Columns, wp = chunk.PaddedWidth, L = chunk.L;
        int g = c / chunk.ChannelsPerGroup;
        int groupPlane = (b * cp.InChannels + g * chunk.ChannelsPerGroup) * chunk.PaddedPlane;
        Array.Clear(scratch);
        fixed (T* gradCol = gradColumns)
        fixed (int* tIndex = tableIndex)
        fixed (T* tWeight = tableWeights)
        fixed (T* plane = scratch)
        {
            for (int k = 0; k < chunk.K; k++)
            {
                int fieldRow = (g * chunk.K + k) * ld;
                int* index = tIndex + fieldRow + b * L;
                T* w0 = tWeight + 4L * fieldRow + b * L;
                T* w1 = w0 + ld, w2 = w1 + ld, w3 = w2 + ld;
                T* upstream = gradCol + (long)(c * chunk.K + k) * ld + b * L;
                T* origin = plane - groupPlane;
                for (int l = 0; l < L; l++)
                {
                    T u = upstream[l];
                    T* at = origin + index[l];
                    at[0] += w0[l] * u;
                    at[1] += w1[l] * u;
                    at[wp] += w2[l] * u;
                    at[wp + 1] += w3[l] * u;
                }
            }
        }
        var destination = gradInput.AsSpan(((chunk.First + b) * cp.InChannels + c) * cp.Height * cp.Width, cp.Height * cp.Width);
        for (int y = 0; y < cp.Height; y++)
            scratch.AsSpan((y + 1) * wp + 1, cp.Width).CopyTo(destination.Slice(y * cp.Width, cp.Width));
    }
}

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using DeformEngine.Cpu;

namespace DeformEngine.Kernels;

/// <summary>Fast kernels of <see cref="Functional.DeformConv2d{T}"/> for a <see cref="DeformChunk"/> of
/// images; the same sums as <see cref="DeformConv2dReferenceKernels"/> up to rounding, in the chunk's
/// channels-last layouts. Each sampling point (image, offset group, kernel point, output position)
/// is located once — corner pixel, coefficients, mask — and then applied to all channels of its
/// offset group as contiguous vectors (<see cref="ChannelVectors"/>): no gathers.
/// The task bodies are compiled fully optimised at their first call (AggressiveOptimization): run at
/// tier 0, a first call's sampling passes took several times their steady time.
/// Work is split into fixed tasks that never depend on the thread count: sampling tasks are blocks
/// of <see cref="RowBlock"/> output positions and own those column rows and the offset/mask
/// gradients at those positions (their channel sums run inside the task, in channel order); input
/// gradient tasks are (image, run of channels) and own those channels of that image, adding every
/// position and kernel point in a fixed order. With an image or more per thread one pass does both, a task per
/// image (<see cref="SamplingAndInputGradients{T}"/>), with the same sums in the same order.</summary>
internal static unsafe class DeformConv2dFastKernels
{
    /// <summary>Output positions per sampling task.</summary>
    public const int RowBlock = 32;

    /// <summary>Fewest channels per input-gradient task (unless a group has fewer): a task reads its
    /// channels' part of every column row it touches and adds into those channels of four pixels, and
    /// shorter parts are much slower (measured on C = 256: 64 channels 3×, 128 channels 2× the time of 256).</summary>
    public const int MinScatterChannels = 256;

    /// <summary>Input-gradient tasks the chunk is split into, when it has the channels for it.</summary>
    private const int ScatterTasks = 8;

    private static int RowBlocks(in DeformChunk chunk) => (chunk.Rows + RowBlock - 1) / RowBlock;

    /// <summary>Copies the chunk's images, NCHW, into the zero-bordered channels-last layout; one task
    /// per padded row.</summary>
    public static void PadImages<T>(DeformChunk chunk, T[] input, Memory<T> padded) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = chunk.Parameters.Conv;
        int h = cp.Height, w = cp.Width, channels = chunk.Channels, paddedRows = h + 3;
        int rowLength = chunk.PaddedWidth * channels;
        ParallelLoop.For(chunk.Images * paddedRows, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int b = task / paddedRows, y = task - b * paddedRows - 1;
            var row = padded.Span.Slice(task * rowLength, rowLength);
            if (y < 0 || y >= h)
            {
                row.Clear();
                return;
            }
            row[..channels].Clear();
            row[((w + 1) * channels)..].Clear();
            fixed (T* source = &input[((chunk.First + b) * channels * h + y) * w])
            fixed (T* dest = row)
                BlockTranspose.Transpose(source, (long)h * w, dest + channels, channels, channels, w);
        });
    }

    /// <summary>columns[b·L + l, (c, k)] = m · bilinear(image b, channel c, p).</summary>
    public static void Im2Col<T>(DeformChunk chunk, ReadOnlyMemory<T> padded, T[] offset, T[]? mask, Memory<T> columns)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelLoop.For(RowBlocks(chunk), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int block) =>
        {
            fixed (T* pad = padded.Span)
            fixed (T* off = offset)
            fixed (T* msk = mask)
            fixed (T* col = columns.Span)
            {
                int first = block * RowBlock;
                SampleRows(chunk, pad, off, msk, first, Math.Min(first + RowBlock, chunk.Rows), col + (long)first * chunk.RowLength);
            }
        });
    }

    /// <summary>The forward in tiles of <paramref name="tileRows"/> output positions of one image, for rows short
    /// enough that a tile stays in a core's L2 (<see cref="DeformConv2dWorkspace.ForwardTileRows"/>): a task samples
    /// its tile's column rows into its thread's buffer, multiplies them by the packed weight on its own thread
    /// straight into the output and adds the bias, while they are still in that core's caches. No column matrix and
    /// no product buffer go through memory, and with many small tasks a thread that is held up is covered by the
    /// others. An output element gets the same sums in the same order as from the untiled path.</summary>
    public static void SampleAndMultiply<T>(DeformChunk chunk, ReadOnlyMemory<T> padded, T[] offset, T[]? mask,
        GemmPackedA<T>[] weight, T[]? bias, T[] result, int tileRows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int positions = chunk.Positions, tilesPerImage = (positions + tileRows - 1) / tileRows;
        int outChannels = chunk.Parameters.Conv.OutChannels, groups = weight.Length;
        int og = outChannels / groups, kg = chunk.RowLength / groups;
        ParallelLoop.For(chunk.Images * tilesPerImage, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int b = task / tilesPerImage, l0 = (task - b * tilesPerImage) * tileRows, n = Math.Min(tileRows, positions - l0);
            var tile = ThreadScratch<T>.Get(tileRows * chunk.RowLength);
            int firstRow = b * positions + l0;
            fixed (T* pad = padded.Span)
            fixed (T* off = offset)
            fixed (T* msk = mask)
            fixed (T* dest = tile)
                SampleRows(chunk, pad, off, msk, firstRow, firstRow + n, dest);
            var image = result.AsSpan((chunk.First + b) * outChannels * positions, outChannels * positions);
            for (int g = 0; g < groups; g++)
                Gemm.MultiplyPacked(weight[g], true, n, T.One, tile[(g * kg)..], chunk.RowLength, T.Zero, image[(g * og * positions + l0)..],
                    positions, threads: 1);
            if (bias is not null)
                for (int o = 0; o < outChannels; o++)
                {
                    var row = image.Slice(o * positions + l0, n);
                    ConvGemm.AddBias<T>(row, bias[o], row);
                }
        });
    }

    /// <summary>Column rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of the chunk; row r goes to
    /// dest + (r − firstRow)·RowLength.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SampleRows<T>(in DeformChunk chunk, T* pad, T* off, T* msk, int firstRow, int endRow, T* dest)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = chunk.Channels, wp = chunk.PaddedWidth, outW = chunk.Parameters.Conv.OutW;
        for (int r = firstRow; r < endRow; r++)
        {
            int b = r / chunk.Positions, l = r - b * chunk.Positions, y = l / outW, x = l - y * outW;
            T* row = dest + (long)(r - firstRow) * chunk.RowLength;
            for (int g = 0; g < chunk.Parameters.OffsetGroups; g++)
                for (int k = 0; k < chunk.KernelPoints; k++)
                {
                    var s = chunk.Locate(off, msk, b, y, x, g, k);
                    T w0 = s.Mask * s.Glt, w1 = s.Mask * s.Grt, w2 = s.Mask * s.Glb, w3 = s.Mask * s.Grb;
                    T* lt = pad + (long)s.Pixel * channels, lb = lt + wp * channels;
                    for (int c = g * chunk.OffsetGroupChannels, groupEnd = c + chunk.OffsetGroupChannels; c < groupEnd;)
                    {
                        int runEnd = chunk.RunEnd(c, groupEnd);
                        ChannelVectors.Bilinear(row + chunk.ColumnOffset(c, k), lt + c, lt + channels + c, lb + c, lb + channels + c,
                            w0, w1, w2, w3, runEnd - c);
                        c = runEnd;
                    }
                }
        }
    }

    /// <summary>The backward's pass over the sampling points, given ∂L/∂columns of the chunk. Per
    /// point it sums S_q = Σ_c ∂L/∂col · v_q over the offset group's channels and writes
    /// gradMask = Σ_q g_q·S_q and gradOffset = m·(Σ_q ∂g_q/∂y · S_q, Σ_q ∂g_q/∂x · S_q). On the way it
    /// can write the columns (for the weight gradient; the corners are loaded anyway) and the
    /// coefficient table that <see cref="ScatterInputGradient{T}"/> reads: per (row, offset group,
    /// kernel point) the corner pixel and the four weights m·g_q. Empty / null destinations are skipped.</summary>
    public static void SamplingGradients<T>(DeformChunk chunk, ReadOnlyMemory<T> padded, T[] offset, T[]? mask,
        ReadOnlyMemory<T> gradColumns, Memory<T> columns, Memory<int> tablePixels, Memory<T> tableWeights,
        T[]? gradOffset, T[]? gradMask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelLoop.For(RowBlocks(chunk), [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int block) =>
        {
            fixed (T* pad = padded.Span)
            fixed (T* off = offset)
            fixed (T* msk = mask)
            fixed (T* gradCol = gradColumns.Span)
            fixed (T* col = columns.Span)
            fixed (int* tPixel = tablePixels.Span)
            fixed (T* tWeight = tableWeights.Span)
            fixed (T* gOff = gradOffset)
            fixed (T* gMask = gradMask)
            {
                for (int r = block * RowBlock, end = Math.Min(r + RowBlock, chunk.Rows); r < end; r++)
                    RowGradients(chunk, r, pad, off, msk, gradCol, col, tPixel, tWeight, gOff, gMask, gradPad: null);
            }
        });
    }

    /// <summary><see cref="SamplingGradients{T}"/> and <see cref="ScatterInputGradient{T}"/> in one pass, one task
    /// per image: each sampling point's ∂L/∂col run is read once, for its corner sums and for its adds into the
    /// input gradient, while it is still in L1 (the two passes read the chunk's ∂L/∂columns twice from memory). A task
    /// owns its image's input gradient and adds into it in the order <see cref="ScatterRun{T}"/> does (positions, then
    /// kernel points), so every result is bitwise the same as from the two passes. With few images per thread the
    /// two passes' finer tasks are the ones that keep every thread busy (<see cref="FusesInputGradient"/>).</summary>
    public static void SamplingAndInputGradients<T>(DeformChunk chunk, ReadOnlyMemory<T> padded, T[] offset, T[]? mask,
        ReadOnlyMemory<T> gradColumns, Memory<T> columns, Memory<T> gradPadded, T[] gradInput, T[]? gradOffset, T[]? gradMask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ParallelLoop.For(chunk.Images, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int b) =>
        {
            fixed (T* pad = padded.Span)
            fixed (T* off = offset)
            fixed (T* msk = mask)
            fixed (T* gradCol = gradColumns.Span)
            fixed (T* col = columns.Span)
            fixed (T* gOff = gradOffset)
            fixed (T* gMask = gradMask)
            fixed (T* gradPad = gradPadded.Span)
            {
                ClearGradientRun(chunk, b, 0, chunk.Channels, gradPad);
                for (int r = b * chunk.Positions, end = r + chunk.Positions; r < end; r++)
                    RowGradients(chunk, r, pad, off, msk, gradCol, col, null, null, gOff, gMask, gradPad);
                CopyGradientRun(chunk, b, 0, chunk.Channels, gradPad, gradInput);
            }
        });
    }

    /// <summary>Whether <see cref="SamplingAndInputGradients{T}"/> suits the chunk: an image for every thread.</summary>
    public static bool FusesInputGradient(in DeformChunk chunk, int threads) => chunk.Images >= threads;

    /// <summary>One column row's sampling points: their corner sums and coordinate gradients, the columns, the
    /// coefficient table (where <paramref name="tPixel"/> is not null) and, where <paramref name="gradPad"/> is not
    /// null, their adds into the zero-bordered channels-last input gradient.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowGradients<T>(in DeformChunk chunk, int r, T* pad, T* off, T* msk, T* gradCol, T* col,
        int* tPixel, T* tWeight, T* gOff, T* gMask, T* gradPad) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = chunk.Channels, wp = chunk.PaddedWidth, outW = chunk.Parameters.Conv.OutW, groups = chunk.Parameters.OffsetGroups;
        bool wantSums = gOff != null || gMask != null;
        int b = r / chunk.Positions, l = r - b * chunk.Positions, y = l / outW, x = l - y * outW;
        T* row = col == null ? null : col + (long)r * chunk.RowLength;
        T* upstreamRow = gradCol + (long)r * chunk.RowLength;
        for (int g = 0; g < groups; g++)
            for (int k = 0; k < chunk.KernelPoints; k++)
            {
                var s = chunk.Locate(off, msk, b, y, x, g, k);
                T w0 = s.Mask * s.Glt, w1 = s.Mask * s.Grt, w2 = s.Mask * s.Glb, w3 = s.Mask * s.Grb;
                if (tPixel != null)
                {
                    long entry = ((long)r * groups + g) * chunk.KernelPoints + k;
                    tPixel[entry] = s.Pixel;
                    tWeight[4 * entry] = w0;
                    tWeight[4 * entry + 1] = w1;
                    tWeight[4 * entry + 2] = w2;
                    tWeight[4 * entry + 3] = w3;
                }
                if (!wantSums && row == null && gradPad == null) continue;
                // An edge point's sums read its real corners; its column entries are 0.
                T* lt = pad + (long)s.SlopePixel * channels, lb = lt + wp * channels;
                T* sampleRow = s.OnEdge ? null : row;
                T* glt = gradPad == null ? null : gradPad + (long)s.Pixel * channels, glb = glt + wp * channels;
                T sLt = T.Zero, sRt = T.Zero, sLb = T.Zero, sRb = T.Zero;
                for (int c = g * chunk.OffsetGroupChannels, groupEnd = c + chunk.OffsetGroupChannels; c < groupEnd;)
                {
                    int runEnd = chunk.RunEnd(c, groupEnd), at = chunk.ColumnOffset(c, k);
                    if (wantSums)
                    {
                        ChannelVectors.CornerSums(upstreamRow + at, lt + c, lt + channels + c, lb + c, lb + channels + c, runEnd - c,
                            sampleRow == null ? null : sampleRow + at, w0, w1, w2, w3, out T a, out T bb, out T cc, out T d);
                        sLt += a;
                        sRt += bb;
                        sLb += cc;
                        sRb += d;
                    }
                    else if (sampleRow != null)
                    {
                        ChannelVectors.Bilinear(sampleRow + at, lt + c, lt + channels + c, lb + c, lb + channels + c, w0, w1, w2, w3, runEnd - c);
                    }
                    if (row != null && sampleRow == null) new Span<T>(row + at, runEnd - c).Clear();
                    if (glt != null)
                        ChannelVectors.Scatter(upstreamRow + at, glt + c, glt + channels + c, glb + c, glb + channels + c, w0, w1, w2, w3, runEnd - c);
                    c = runEnd;
                }
                if (wantSums) WriteCoordinateGradients(chunk, s, b, l, g, k, sLt, sRt, sLb, sRb, gOff, gMask);
            }
    }

    /// <summary>gradMask = Σ_q g_q·S_q; gradOffset (dy, dx) = m·((1−lx)(S_lb − S_lt) + lx(S_rb − S_rt),
    /// (1−ly)(S_rt − S_lt) + ly(S_rb − S_lb)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WriteCoordinateGradients<T>(in DeformChunk chunk, in DeformSample<T> s, int b, int l, int g, int k,
        T sLt, T sRt, T sLb, T sRb, T* gradOffset, T* gradMask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long field = ((long)(chunk.First + b) * chunk.Parameters.OffsetGroups + g) * chunk.KernelPoints + k;
        // NOTE: a point outside the box sampled 0 whatever its offset: all its gradients are 0
        // (set explicitly so that a non-finite mask cannot turn 0 · S into NaN). On the edges y = −1,
        // x = −1 it sampled 0 too (mask gradient 0) but keeps torchvision's slope from the inside.
        T dm = T.Zero, dy = T.Zero, dx = T.Zero;
        if (s.Inside) dm = s.Glt * sLt + s.Grt * sRt + s.Glb * sLb + s.Grb * sRb;
        if (s.HasSlope)
        {
            dy = s.Mask * ((T.One - s.Lx) * (sLb - sLt) + s.Lx * (sRb - sRt));
            dx = s.Mask * ((T.One - s.Ly) * (sRt - sLt) + s.Ly * (sRb - sLb));
        }
        if (gradOffset != null)
        {
            gradOffset[2 * field * chunk.Positions + l] = dy;
            gradOffset[(2 * field + 1) * chunk.Positions + l] = dx;
        }
        if (gradMask != null) gradMask[field * chunk.Positions + l] = dm;
    }

    /// <summary>gradInput[b, c] = Σ_{l, k} Σ_q (m·g_q) · ∂L/∂col[b·L + l, (c, k)] at corner q, from the
    /// coefficient table of <see cref="SamplingGradients{T}"/>. A task owns one image's run of
    /// channels: it clears them in the zero-bordered channels-last scratch, adds every position and
    /// kernel point in order (the border absorbs the corners outside the image), and copies them out
    /// to NCHW.</summary>
    public static void ScatterInputGradient<T>(DeformChunk chunk, ReadOnlyMemory<T> gradColumns,
        ReadOnlyMemory<int> tablePixels, ReadOnlyMemory<T> tableWeights, Memory<T> gradPadded, T[] gradInput)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var runs = ScatterRuns(chunk);
        ParallelLoop.For(chunk.Images * runs.Length, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int b = task / runs.Length;
            var (start, end, group) = runs[task - b * runs.Length];
            fixed (T* gradCol = gradColumns.Span)
            fixed (int* tPixel = tablePixels.Span)
            fixed (T* tWeight = tableWeights.Span)
            fixed (T* gradPad = gradPadded.Span)
                ScatterRun(chunk, b, start, end, group, gradCol, tPixel, tWeight, gradPad, gradInput);
        });
    }

    /// <summary>Runs of channels inside one offset group and one convolution group, in channel order:
    /// at least <see cref="MinScatterChannels"/> (or the whole group) and short enough to give the
    /// chunk about <see cref="ScatterTasks"/> tasks. Depends on the shape only.</summary>
    private static (int Start, int End, int OffsetGroup)[] ScatterRuns(in DeformChunk chunk)
    {
        int perImage = Math.Max(1, (ScatterTasks + chunk.Images - 1) / chunk.Images);
        int length = Math.Max(MinScatterChannels, (chunk.Channels / perImage + 7) / 8 * 8);
        var runs = new List<(int, int, int)>();
        for (int g = 0; g < chunk.Parameters.OffsetGroups; g++)
            for (int c = g * chunk.OffsetGroupChannels, groupEnd = c + chunk.OffsetGroupChannels; c < groupEnd;)
            {
                int runEnd = Math.Min(chunk.RunEnd(c, groupEnd), c + length);
                runs.Add((c, runEnd, g));
                c = runEnd;
            }
        return runs.ToArray();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScatterRun<T>(in DeformChunk chunk, int b, int start, int end, int g, T* gradCol, int* tPixel, T* tWeight,
        T* gradPad, T[] gradInput) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = chunk.Channels, wp = chunk.PaddedWidth, count = end - start;
        ClearGradientRun(chunk, b, start, end, gradPad);
        for (int l = 0; l < chunk.Positions; l++)
        {
            long r = (long)b * chunk.Positions + l;
            T* upstreamRow = gradCol + r * chunk.RowLength;
            for (int k = 0; k < chunk.KernelPoints; k++)
            {
                long entry = (r * chunk.Parameters.OffsetGroups + g) * chunk.KernelPoints + k;
                T* w = tWeight + 4 * entry;
                T* lt = gradPad + (long)tPixel[entry] * channels + start, lb = lt + wp * channels;
                ChannelVectors.Scatter(upstreamRow + chunk.ColumnOffset(start, k), lt, lt + channels, lb, lb + channels,
                    w[0], w[1], w[2], w[3], count);
            }
        }
        CopyGradientRun(chunk, b, start, end, gradPad, gradInput);
    }

    /// <summary>Zeroes channels [<paramref name="start"/>, <paramref name="end"/>) of image <paramref name="b"/>'s
    /// zero-bordered channels-last input gradient, border included.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ClearGradientRun<T>(in DeformChunk chunk, int b, int start, int end, T* gradPad) where T : unmanaged
    {
        int channels = chunk.Channels;
        T* image = gradPad + (long)b * chunk.PaddedPixels * channels;
        if (start == 0 && end == channels)
        {
            new Span<T>(image, chunk.PaddedPixels * channels).Clear();
            return;
        }
        for (int p = 0; p < chunk.PaddedPixels; p++)
            new Span<T>(image + (long)p * channels + start, end - start).Clear();
    }

    /// <summary>Copies channels [<paramref name="start"/>, <paramref name="end"/>) of image <paramref name="b"/>'s
    /// input gradient, without the border, to NCHW.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyGradientRun<T>(in DeformChunk chunk, int b, int start, int end, T* gradPad, T[] gradInput) where T : unmanaged
    {
        var cp = chunk.Parameters.Conv;
        int channels = chunk.Channels, wp = chunk.PaddedWidth, h = cp.Height, width = cp.Width, plane = h * width;
        T* image = gradPad + (long)b * chunk.PaddedPixels * channels;
        fixed (T* gradIn = gradInput)
        {
            T* to = gradIn + ((long)(chunk.First + b) * channels + start) * plane;
            for (int y = 0; y < h; y++)
                BlockTranspose.Transpose(image + ((long)(y + 1) * wp + 1) * channels + start, channels, to + y * width, plane, width, end - start);
        }
    }
}

using System.Runtime.CompilerServices;

namespace DeformEngine.Kernels;

/// <summary>Where one kernel point of one output position samples: the padded pixel of its top-left
/// corner, the bilinear coefficients, the fractional parts and the mask value. A point outside
/// (−1, H) × (−1, W) has zero coefficients and points at an all-zero 2×2 block of the border; one on
/// the edge y = −1 or x = −1 keeps its real corners in <see cref="SlopePixel"/> for the coordinate
/// gradient (<see cref="BilinearCorners{T}.HasSlope"/>).</summary>
internal struct DeformSample<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Pixel, SlopePixel;
    public bool Inside, HasSlope;
    public T Glt, Grt, Glb, Grb, Ly, Lx, Mask;

    /// <summary>Sampled 0 but has a slope: the edges y = −1 and x = −1.</summary>
    public readonly bool OnEdge => HasSlope && !Inside;
}

/// <summary>The images [First, First + Images) of a deformable convolution, processed together by
/// the fast kernels, in two layouts chosen so that the channel loops are contiguous vectors:
/// <list type="bullet">
/// <item>padded images, channels last: [Images, H + 3, W + 2, C] with one zero row above, two below
/// and one zero column each side. The four corners of every sample are then real memory (a corner
/// outside the image reads the border's 0; a sample outside the box reads the all-zero block at
/// padded rows H + 1, H + 2), with no branch per corner, and each corner is a run of C contiguous
/// channels.</item>
/// <item>columns, one row per output position: [Images·L, C·kh·kw] (row b·L + l), each row
/// [conv group g][kernel point k][channel of the group c'] — the transpose of the reference's
/// [C·kh·kw, L] with the weight's (c', k) order swapped to (k, c') so that a sample's channels are
/// contiguous in both layouts. The GEMMs take it transposed and the weight permuted
/// (<see cref="ConvGemm.ToKernelPointMajor{T}"/>).</item>
/// </list></summary>
internal readonly struct DeformChunk
{
    public readonly DeformConv2dParams Parameters;
    public readonly int First, Images;
    /// <summary>Output positions per image, kernel points, input channels.</summary>
    public readonly int Positions, KernelPoints, Channels;
    /// <summary>Channels per convolution group and per offset group.</summary>
    public readonly int GroupChannels, OffsetGroupChannels;
    public readonly int PaddedWidth, PaddedPixels;

    public DeformChunk(DeformConv2dParams dp, int first, int images)
    {
        Parameters = dp;
        First = first;
        Images = images;
        Positions = dp.Conv.ColumnCols;
        KernelPoints = dp.KernelPoints;
        Channels = dp.Conv.InChannels;
        GroupChannels = Channels / dp.Conv.Groups;
        OffsetGroupChannels = dp.ChannelsPerOffsetGroup;
        PaddedWidth = dp.Conv.Width + 2;
        PaddedPixels = (dp.Conv.Height + 3) * PaddedWidth;
    }

    /// <summary>Rows of the column matrix (output positions of the chunk).</summary>
    public int Rows => Images * Positions;

    /// <summary>Length of one column row: C·kh·kw.</summary>
    public int RowLength => Channels * KernelPoints;

    public static long PaddedLength(DeformConv2dParams dp, int images) =>
        (long)images * dp.Conv.InChannels * (dp.Conv.Height + 3) * (dp.Conv.Width + 2);

    /// <summary>Position of (channel c, kernel point k) inside a column row.</summary>
    public int ColumnOffset(int c, int k)
    {
        int g = c / GroupChannels;
        return g * KernelPoints * GroupChannels + k * GroupChannels + (c - g * GroupChannels);
    }

    /// <summary>End of the run of channels from <paramref name="c"/> that stays inside one
    /// convolution group and ends at most at <paramref name="end"/> (a run is contiguous in both
    /// the image and the column row).</summary>
    public int RunEnd(int c, int end) => Math.Min(end, (c / GroupChannels + 1) * GroupChannels);

    /// <summary>Kernel point k of offset group g at output (y, x) of chunk image b; reads the op's
    /// whole offset and mask tensors (mask null = no mask).</summary>
    /// <remarks>Called once per sample from the sampling kernels and too large to inline into them, so it is
    /// compiled optimised at once: left to tiering it ran as tier-0 code through a process's first calls
    /// (their sampling 2–3× slower than steady, docs/benchmarks.md "First call").</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe DeformSample<T> Locate<T>(T* offset, T* mask, int b, int y, int x, int g, int k)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = Parameters.Conv;
        int l = y * cp.OutW + x;
        int i = k / cp.KernelW, j = k - i * cp.KernelW;
        // (image, group, kernel point) of the mask layout [N, G·K, L]; the offset has 2 planes each.
        long field = ((long)(First + b) * Parameters.OffsetGroups + g) * KernelPoints + k;
        T py = T.CreateTruncating(y * cp.Stride.H - cp.Padding.H + i * cp.Dilation.H) + offset[2 * field * Positions + l];
        T px = T.CreateTruncating(x * cp.Stride.W - cp.Padding.W + j * cp.Dilation.W) + offset[(2 * field + 1) * Positions + l];
        var corners = new BilinearCorners<T>(py, px, cp.Height, cp.Width);
        var sample = new DeformSample<T> { Mask = mask == null ? T.One : mask[field * Positions + l] };
        int zeroBlock = b * PaddedPixels + (cp.Height + 1) * PaddedWidth;
        if (!corners.HasSlope)
        {
            sample.Pixel = sample.SlopePixel = zeroBlock;
            return sample;
        }
        sample.HasSlope = true;
        sample.SlopePixel = b * PaddedPixels + (corners.Top + 1) * PaddedWidth + corners.Left + 1;
        sample.Ly = corners.Ly;
        sample.Lx = corners.Lx;
        if (!corners.Inside)
        {
            // The edge's sample is 0 whatever the input holds (an infinite pixel must not make it NaN).
            sample.Pixel = zeroBlock;
            return sample;
        }
        sample.Inside = true;
        sample.Pixel = sample.SlopePixel;
        sample.Glt = corners.Glt;
        sample.Grt = corners.Grt;
        sample.Glb = corners.Glb;
        sample.Grb = corners.Grb;
        return sample;
    }
}

/// <summary>How the fast path splits a batch: images per chunk and the scratch one chunk needs, all
/// of it counted against <see cref="EngineOptions.WorkspaceBytes"/>: padded images, the GEMM's
/// [O, chunk·L] product, columns, gradient columns, the padded input gradient and the backward's
/// coefficient table (the permuted weight is kept apart, see <see cref="DeformConv2dWeights"/>). Chunks are
/// balanced (8 images at a budget of 7 run as 4 + 4). A single image larger than the budget still runs,
/// alone; an empty batch has no chunk.</summary>
internal sealed record DeformConv2dWorkspace(int ChunkImages, int Chunks, int PaddedLength, int ProductLength,
    int ColumnLength, int GradColumnLength, int GradPaddedLength, int TableLength, long Bytes)
{
    /// <summary>Elements of T in the scratch array (the table's indices are a separate int array), with the slack that
    /// puts every buffer on a cache line.</summary>
    public long ScratchLength =>
        ScratchAlignment.Slack + ScratchAlignment.Round(PaddedLength) + ScratchAlignment.Round(ProductLength)
        + ScratchAlignment.Round(ColumnLength) + ScratchAlignment.Round(GradColumnLength) + ScratchAlignment.Round(GradPaddedLength)
        + 4L * TableLength;

    /// <summary>The plan of a forward pass; <paramref name="tiled"/> for
    /// <see cref="DeformConv2dFastKernels.SampleAndMultiply{T}"/>, which needs only the padded images.</summary>
    public static DeformConv2dWorkspace ForForward(DeformConv2dParams parameters, int elementSize, bool tiled = false) =>
        Create(parameters, elementSize, columns: !tiled, sampling: false, inputGradient: false, product: !tiled);

    /// <summary>Fewest output positions in a tile of the tiled forward: each tile streams the whole weight
    /// once and uses each weight element n times, so a tile of n positions does n/2 flops per weight byte read
    /// in float, 48 at this bound — enough that the weight's stream from L3 stays far below the arithmetic.
    /// Double: 48 positions. Measured in one process against the untiled forward (AVX-512, two threads): float
    /// N2 C512 14×14 (rows of 18 KiB) in tiles of 48 or 96 ran 2–8 % slower, so it stays untiled; double
    /// N4 C256 28×28 (the same row length) in tiles of 48 ran 7–10 % faster and in tiles of 72 12 %, where the
    /// untiled forward moves a 58 MB column matrix through memory and back.</summary>
    public static int MinForwardTileRows(int elementSize) => elementSize >= sizeof(double) ? 48 : 96;

    /// <summary>Bytes of column rows per tile of the tiled forward: half of L2, the GEMM's packed slice and the
    /// A panels passing through taking the rest. Tests lower it to cut images into several tiles.</summary>
    internal static long ForwardTileBytes { get; set; } = Cpu.CacheSizes.L2 / 2;

    /// <summary>Rows the tile budget must hold before it is stretched (<see cref="TileBytes"/>).</summary>
    private const int StretchBelowRows = 96;

    /// <summary>Bytes a tile of rows of <paramref name="rowBytes"/> may take: <see cref="ForwardTileBytes"/>, or half as
    /// much again (three quarters of L2) where that holds fewer than 96 rows. A tile's own GEMM slice is only
    /// kc × tile positions, so a tile of long rows can take more of L2. Measured in one process (AVX-512, two
    /// threads): float C384 28×28 and C320 20×20, untiled before, in tiles of 96 ran 3–12 % faster; double C256
    /// 28×28 in tiles of 72 rather than 48, 5 % faster; float C256 28×28 (113 rows fit) in tiles of 144 instead
    /// of 96 was 3–5 % slower, so shorter rows keep the half.</summary>
    internal static long TileBytes(long rowBytes) =>
        ForwardTileBytes / Math.Max(1L, rowBytes) >= StretchBelowRows ? ForwardTileBytes : LargestTileBytes;

    /// <summary>The most any tile takes (<see cref="TileBytes"/> of long rows).</summary>
    internal static long LargestTileBytes => ForwardTileBytes * 3 / 2;

    /// <summary>Output positions per tile of the tiled forward on <paramref name="threads"/> threads: at most as
    /// many column rows as fit in <see cref="TileBytes"/> and at least <see cref="MinForwardTileRows"/>, a whole
    /// number of the GEMM kernel's column panels, chosen so that the threads finish together (below); 0 when
    /// fewer than <see cref="MinForwardTileRows"/> fit (long rows: many channels), where the untiled forward's one
    /// product per chunk reuses the weight better. Any tiling gives bitwise the same output (every element gets
    /// the same sums in the same order), so the choice only decides the speed.</summary>
    /// <remarks>
    /// Each tile is its own product, so a tile that is not a whole number of panels ends in a narrow panel,
    /// which the narrow kernel runs at a fraction of the full one's rate: at N1 C256 28×28 on AVX-512 the
    /// balanced tiles were 7 of 112 positions (48 + 48 + 16). And the tiles of an image or two are few, so how
    /// they share out over the threads matters: N1 C64 56×56 in tiles of 432 (7, then one of 112) gave two
    /// threads 1728 and 1408 positions, in tiles of 384 (8, then 64) 1600 and 1536. So each candidate size (the
    /// whole image when it fits, else multiples of the panel width from <see cref="MinForwardTileRows"/> to what
    /// fits) is costed by dealing the batch's tiles in order to the least-loaded thread, a tile costing its
    /// positions rounded up to whole panels plus <see cref="TileOverhead"/>; the cheapest wins, the larger on a
    /// tie. In one process against the sizes before, two threads, 40 interleaved calls each: N1 C64 in tiles of 384
    /// instead of 432, the fastest call 3–7 % faster in six runs (the medians −4 to +8 %, this VM's noise); N1 C256
    /// in tiles of 96 instead of 112, the medians 0–9 % faster; other shapes unchanged within noise.
    /// </remarks>
    public static int ForwardTileRows(DeformConv2dParams parameters, int elementSize, int threads = 1)
    {
        long rowBytes = Math.Max(1L, (long)parameters.Conv.ColumnRows * elementSize);
        long fit = TileBytes(rowBytes) / rowBytes;
        int positions = parameters.Conv.ColumnCols, min = MinForwardTileRows(elementSize);
        if (fit < min || positions == 0)
            return 0;
        int panel = elementSize == sizeof(float) ? Cpu.Gemm.PanelColumns<float>() : Cpu.Gemm.PanelColumns<double>();
        int images = Math.Max(1, parameters.Conv.Batch);
        threads = Math.Clamp(threads, 1, 1024);
        int best = 0;
        double bestCost = double.PositiveInfinity;
        void Consider(int rows)
        {
            double cost = TileCost(positions, rows, panel, images, threads);
            if (cost < bestCost)
                (best, bestCost) = (rows, cost);
        }
        if (positions <= fit)
            Consider(positions);
        for (long rows = Math.Min(fit, positions - 1L) / panel * panel; rows >= min; rows -= panel)
            Consider((int)rows);
        if (best > 0)
            return best;
        // No whole number of panels between the bounds (a panel wider than MinForwardTileRows): balanced tiles.
        long tiles = (positions + fit - 1) / fit;
        return (int)((positions + tiles - 1) / tiles);
    }

    /// <summary>What a tile costs beyond its positions, in positions: sampling's set-up and the weight streamed
    /// once more. Measured at N1 C64 56×56 (two threads): tiles of 192 ran 2–3 % slower than tiles of 384 whose
    /// threads carried the same positions, about 10 positions per extra tile.</summary>
    private const int TileOverhead = 16;

    /// <summary>The time, in positions, after which the last of <paramref name="threads"/> threads finishes the
    /// tiles of <paramref name="images"/> images cut into tiles of <paramref name="rows"/> positions, each claimed
    /// in order by the thread that is free first.</summary>
    private static double TileCost(int positions, int rows, int panel, int images, int threads)
    {
        int tiles = (positions + rows - 1) / rows, last = positions - (tiles - 1) * rows;
        double Cost(int n) => (n + panel - 1) / panel * panel + TileOverhead;
        double perImage = (tiles - 1) * Cost(rows) + Cost(last);
        // Many tiles per thread: the threads end within about one tile of each other.
        if ((long)tiles * images > 64L * threads)
            return images * perImage / threads + Cost(rows);
        Span<double> load = stackalloc double[threads];
        load.Clear();
        for (int b = 0; b < images; b++)
            for (int t = 0; t < tiles; t++)
            {
                int free = 0;
                for (int i = 1; i < threads; i++)
                    if (load[i] < load[free])
                        free = i;
                load[free] += Cost(t == tiles - 1 ? last : rows);
            }
        double end = 0;
        foreach (double value in load)
            end = Math.Max(end, value);
        return end;
    }

    /// <summary>The plan of a backward pass that computes the gradients asked for.</summary>
    public static DeformConv2dWorkspace ForBackward(DeformConv2dParams parameters, int elementSize, bool gradInput, bool gradOffsetOrMask,
        bool gradWeight) =>
        Create(parameters, elementSize, columns: gradWeight, sampling: gradInput || gradOffsetOrMask, inputGradient: gradInput);

    /// <summary>The plan for one call: <paramref name="columns"/> when the columns themselves are
    /// needed (forward, weight gradient), <paramref name="sampling"/> for gradients to offset, mask or
    /// input (gradient columns), <paramref name="inputGradient"/> for the table and the padded input
    /// gradient. The weight gradient needs no scratch: its GEMM writes into the result array.</summary>
    private static DeformConv2dWorkspace Create(DeformConv2dParams dp, int elementSize, bool columns, bool sampling, bool inputGradient,
        bool product = true)
    {
        var cp = dp.Conv;
        long L = cp.ColumnCols;
        long padded = DeformChunk.PaddedLength(dp, 1);
        long columnLength = (long)cp.ColumnRows * L;
        long tableEntries = inputGradient ? (long)dp.OffsetGroups * dp.KernelPoints * L : 0;
        long perImageElements = padded + (product ? cp.OutChannels * L : 0) + (columns ? columnLength : 0) + (sampling ? columnLength : 0)
                                + (inputGradient ? padded + 4 * tableEntries : 0);
        long perImage = perImageElements * elementSize + tableEntries * sizeof(int);
        // What puts each of the (up to six) buffers on a cache line: a line to reach the first, a line's rounding of each.
        long alignmentBytes = 6L * ScratchAlignment.Slack * elementSize;
        // An empty batch has no chunk.
        int fit = (int)Math.Clamp((EngineOptions.WorkspaceBytes - alignmentBytes) / perImage, 1, Math.Max(cp.Batch, 1));
        int chunks = (cp.Batch + fit - 1) / fit;
        int images = chunks == 0 ? 0 : (cp.Batch + chunks - 1) / chunks;
        var plan = new DeformConv2dWorkspace(images, chunks,
            PaddedLength: checked((int)(padded * images)),
            ProductLength: product ? checked((int)(cp.OutChannels * L * images)) : 0,
            ColumnLength: columns ? checked((int)(columnLength * images)) : 0,
            GradColumnLength: sampling ? checked((int)(columnLength * images)) : 0,
            GradPaddedLength: inputGradient ? checked((int)(padded * images)) : 0,
            TableLength: checked((int)(tableEntries * images)),
            Bytes: perImage * images + alignmentBytes);
        return plan;
    }

    // Each buffer starts on a cache line: the scratch array is pinned, the first buffer starts at the array's first
    // 64-byte boundary and every length is rounded up to a line's multiple (see ScratchAlignment).
    private int ProductStart => (int)ScratchAlignment.Round(PaddedLength);
    private int ColumnStart => ProductStart + (int)ScratchAlignment.Round(ProductLength);
    private int GradColumnStart => ColumnStart + (int)ScratchAlignment.Round(ColumnLength);
    private int GradPaddedStart => GradColumnStart + (int)ScratchAlignment.Round(GradColumnLength);
    private int TableStart => GradPaddedStart + (int)ScratchAlignment.Round(GradPaddedLength);

    public Memory<T> Padded<T>(T[] scratch) where T : unmanaged => Buffer(scratch, 0, PaddedLength);
    public Memory<T> Product<T>(T[] scratch) where T : unmanaged => Buffer(scratch, ProductStart, ProductLength);
    public Memory<T> Columns<T>(T[] scratch) where T : unmanaged => Buffer(scratch, ColumnStart, ColumnLength);
    public Memory<T> GradColumns<T>(T[] scratch) where T : unmanaged => Buffer(scratch, GradColumnStart, GradColumnLength);
    public Memory<T> GradPadded<T>(T[] scratch) where T : unmanaged => Buffer(scratch, GradPaddedStart, GradPaddedLength);
    public Memory<T> TableWeights<T>(T[] scratch) where T : unmanaged => Buffer(scratch, TableStart, 4 * TableLength);

    private static Memory<T> Buffer<T>(T[] scratch, int start, int length) where T : unmanaged =>
        scratch.AsMemory(Cpu.CacheLine.Offset(scratch) + start, length);
}

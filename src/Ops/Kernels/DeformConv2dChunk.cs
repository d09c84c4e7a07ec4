namespace DeformEngine.Kernels;

/// <summary>Where one kernel point of one output position samples: the top-left corner's index in the
/// padded chunk (at the first channel of its offset group), the bilinear coefficients, the fractional
/// parts and the mask value. A point outside (−1, H) × (−1, W) has zero coefficients and points at an
/// all-zero 2×2 block of the padding.</summary>
internal struct DeformSample<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public int Index;
    public bool Inside;
    public T Glt, Grt, Glb, Grb, Ly, Lx, Mask;
}

/// <summary>The images [First, First + Images) of a deformable convolution, processed together by
/// the fast kernels. Their columns form one matrix [C·kh·kw, Images·L] (column b·L + l), so one GEMM
/// per group covers the chunk. The images are copied into zero-bordered planes of
/// (H + 3) × (W + 2) — one zero row above, two below, one zero column each side — so that the four
/// corners of every sample are real memory: a corner outside the image reads the border's 0, and a
/// sample outside the box reads the all-zero block at padded rows H + 1, H + 2. No branch per corner,
/// and no 0 · (a non-finite pixel) that a "weight 0, index 0" scheme would turn into NaN.</summary>
internal readonly struct DeformChunk
{
    public readonly DeformConv2dParams Dp;
    public readonly int First, Images;
    /// <summary>Output positions per image, kernel points, channels per offset group.</summary>
    public readonly int L, K, ChannelsPerGroup;
    public readonly int PaddedWidth, PaddedPlane;

    public DeformChunk(DeformConv2dParams dp, int first, int images)
    {
        Dp = dp;
        First = first;
        Images = images;
        L = dp.Conv.ColumnCols;
        K = dp.KernelPoints;
        ChannelsPerGroup = dp.ChannelsPerOffsetGroup;
        PaddedWidth = dp.Conv.Width + 2;
        PaddedPlane = (dp.Conv.Height + 3) * PaddedWidth;
    }

    /// <summary>Columns of the chunk's column matrix (its leading dimension).</summary>
    public int Columns => Images * L;

    public static int PaddedLength(DeformConv2dParams dp, int images) =>
        images * dp.Conv.InChannels * (dp.Conv.Height + 3) * (dp.Conv.Width + 2);

    /// <summary>Kernel point k of offset group g at chunk column b·L + l; reads the op's whole
    /// offset and mask tensors (mask null = no mask).</summary>
    public unsafe DeformSample<T> Locate<T>(T* offset, T* mask, int g, int k, int column)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = Dp.Conv;
        int b = column / L, l = column - b * L;
        int y = l / cp.OutW, x = l - y * cp.OutW;
        int i = k / cp.KernelW, j = k - i * cp.KernelW;
        // (image, group, kernel point) of the mask layout [N, G·K, L]; the offset has 2 planes each.
        long field = ((long)(First + b) * Dp.OffsetGroups + g) * K + k;
        T py = T.CreateTruncating(y * cp.Stride.H - cp.Padding.H + i * cp.Dilation.H) + offset[2 * field * L + l];
        T px = T.CreateTruncating(x * cp.Stride.W - cp.Padding.W + j * cp.Dilation.W) + offset[(2 * field + 1) * L + l];
        var corners = new BilinearCorners<T>(py, px, cp.Height, cp.Width);
        int groupPlane = (b * cp.InChannels + g * ChannelsPerGroup) * PaddedPlane;
        var sample = new DeformSample<T> { Mask = mask == null ? T.One : mask[field * L + l] };
        if (!corners.Inside)
        {
            sample.Index = groupPlane + (cp.Height + 1) * PaddedWidth;
            return sample;
        }
        sample.Inside = true;
        sample.Index = groupPlane + (corners.Top + 1) * PaddedWidth + corners.Left + 1;
        sample.Glt = corners.Glt;
        sample.Grt = corners.Grt;
        sample.Glb = corners.Glb;
        sample.Grb = corners.Grb;
        sample.Ly = corners.Ly;
        sample.Lx = corners.Lx;
        return sample;
    }
}

/// <summary>How the fast path splits a batch: images per chunk and the scratch one chunk needs, all
/// of it counted against <see cref="EngineOptions.WorkspaceBytes"/> (padded images, the GEMM's
/// [O, chunk·L] product, columns, gradient columns, the backward's coefficient table). Chunks are
/// balanced (8 images at a budget of 7 run as 4 + 4). A single image larger than the budget still
/// runs, alone.</summary>
internal sealed record DeformConv2dWorkspace(int ChunkImages, int Chunks, int PaddedLength, int ProductLength,
    int ColumnLength, int GradColumnLength, int TableLength, long Bytes)
{
    /// <summary>The plan of the last call on this thread (tests check the budget with it).</summary>
    [ThreadStatic] internal static DeformConv2dWorkspace? Last;

    public long ScratchLength => (long)PaddedLength + ProductLength + ColumnLength + GradColumnLength + 4L * TableLength;

    public static DeformConv2dWorkspace Create(DeformConv2dParams dp, int elementSize, bool columns, bool gradColumns, bool table)
    {
        var cp = dp.Conv;
        long L = cp.ColumnCols;
        long padded = DeformChunk.PaddedLength(dp, 1);
        long tableEntries = table ? (long)dp.OffsetGroups * dp.KernelPoints * L : 0;
        long elements = padded + cp.OutChannels * L + (columns ? cp.ColumnRows * L : 0)
                        + (gradColumns ? cp.ColumnRows * L : 0) + 4 * tableEntries;
        long perImage = elements * elementSize + tableEntries * sizeof(int);
        int fit = (int)Math.Clamp(EngineOptions.WorkspaceBytes / perImage, 1, cp.Batch);
        int chunks = (cp.Batch + fit - 1) / fit;
        int images = (cp.Batch + chunks - 1) / chunks;
        var plan = new DeformConv2dWorkspace(images, chunks, checked((int)(padded * images)), checked((int)(cp.OutChannels * L * images)),
            columns ? checked((int)(cp.ColumnRows * L * images)) : 0, gradColumns ? checked((int)(cp.ColumnRows * L * images)) : 0,
            checked((int)(tableEntries * images)), perImage * images);
        Last = plan;
        return plan;
    }

    public Memory<T> Padded<T>(T[] scratch) => scratch.AsMemory(0, PaddedLength);
    public Memory<T> Product<T>(T[] scratch) => scratch.AsMemory(PaddedLength, ProductLength);
    public Memory<T> Columns<T>(T[] scratch) => scratch.AsMemory(PaddedLength + ProductLength, ColumnLength);
    public Memory<T> GradColumns<T>(T[] scratch) => scratch.AsMemory(PaddedLength + ProductLength + ColumnLength, GradColumnLength);
    public Memory<T> TableWeights<T>(T[] scratch) =>
        scratch.AsMemory(PaddedLength + ProductLength + ColumnLength + GradColumnLength, 4 * TableLength);
}

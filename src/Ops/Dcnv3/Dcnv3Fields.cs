namespace DeformEngine.Kernels;

/// <summary>Where the offset (Δx, Δy) and the mask of sampling point p of group g at output row
/// r = n·OutH·OutW + oy·OutW + ox are stored: Δx at <see cref="OffsetX"/>, Δy right after it, the mask at
/// <see cref="Mask"/>. DCNv3 keeps two tensors, offset [N, OutH, OutW, G·P·2] and mask [N, OutH, OutW, G·P];
/// DCNv4 packs both into one offset_mask [N, OutH, OutW, D] with per group 2·P offsets then P mask values,
/// D the padded row length.</summary>
internal readonly record struct Dcnv3Fields(int OffsetRow, int OffsetGroup, int MaskRow, int MaskGroup, int MaskStart)
{
    public static Dcnv3Fields Dcnv3(Dcnv3Params parameters) =>
        new(parameters.Group * parameters.Points * 2, parameters.Points * 2, parameters.Group * parameters.Points, parameters.Points, 0);

    public static Dcnv3Fields Dcnv4(Dcnv4Params parameters) =>
        new(parameters.OffsetMaskLength, 3 * parameters.Sampling.Points, parameters.OffsetMaskLength, 3 * parameters.Sampling.Points,
            2 * parameters.Sampling.Points);

    public int OffsetX(int row, int group, int point) => row * OffsetRow + group * OffsetGroup + 2 * point;

    public int Mask(int row, int group, int point) => row * MaskRow + group * MaskGroup + MaskStart + point;
}

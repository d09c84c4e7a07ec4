namespace DeformEngine;

/// <summary>Checked window geometry of a 2-D pooling over [N, C, H, W].</summary>
internal readonly record struct PoolGeometry(int N, int C, int H, int W, int StrideH, int StrideW,
    int PadH, int PadW, int OutH, int OutW)
{
    /// <summary>Window start of output row (column) o: o·stride − pad, in 64 bits (a valid stride
    /// times the last output index can pass 2^31).</summary>
    public long StartY(int oy) => (long)oy * StrideH - PadH;

    public long StartX(int ox) => (long)ox * StrideW - PadW;

    public static PoolGeometry Create<T>(Tensor<T> input, (int H, int W) kernelSize, (int H, int W)? stride, (int H, int W)? padding)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        var s = stride ?? kernelSize;
        var p = padding ?? (0, 0);
        OpArgs.RequirePoolWindow(kernelSize, s, p);
        var shape = input.ShapeArray;
        int outH = OpArgs.WindowCount(nameof(input), shape[2], kernelSize.H, s.H, p.H);
        int outW = OpArgs.WindowCount(nameof(input), shape[3], kernelSize.W, s.W, p.W);
        OpArgs.ElementCount(nameof(input), "the pooled output", shape[0], shape[1], outH, outW);
        return new PoolGeometry(shape[0], shape[1], shape[2], shape[3], s.H, s.W, p.H, p.W, outH, outW);
    }
}

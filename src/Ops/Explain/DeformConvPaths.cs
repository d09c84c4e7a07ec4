namespace DeformEngine.Explain;

/// <summary>Which dependences on the sampling position p the composed graph keeps.</summary>
public enum OffsetPath
{
    /// <summary>The real computation: p reaches the output through the corner indices ⌊p⌋ (a
    /// gather) and through the coefficients g_q(p − ⌊p⌋).</summary>
    IndicesAndCoefficients,

    /// <summary>The ablation: the coefficients are computed from a detached p, so p reaches the
    /// output only through ⌊p⌋ and the gather ("the offsets are only used as indices").</summary>
    IndicesOnly,
}

/// <summary>Deformable convolution composed from small autograd operations — position = offset +
/// grid, ⌊·⌋, a corner gather, the coefficients, a weighted sum, a grouped matrix product — so
/// that the graph itself shows which path carries the offset gradient. With
/// <see cref="OffsetPath.IndicesAndCoefficients"/> it equals <see cref="Functional.DeformConv2d{T}"/>
/// (forward and every gradient, up to summation order); with <see cref="OffsetPath.IndicesOnly"/>
/// the forward is identical and ∂L/∂offset is exactly 0. Slow and memory-hungry: a teaching tool.</summary>
public static class DeformConvPaths
{
    /// <summary>[N, O, OutH, OutW] as <see cref="Functional.DeformConv2d{T}"/>, built from small recorded operations;
    /// <paramref name="path"/> chooses which dependences on the positions the graph keeps.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together, or an offset is not
    /// finite.</exception>
    public static Tensor<T> Forward<T>(DeformConvCall<T> call, OffsetPath path) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var dp = call.Params();
        var cp = dp.Conv;
        foreach (var value in call.Offset.CpuData)
            if (!T.IsFinite(value))
                throw new ArgumentException(
                    "offset: the composed paths need finite offsets (the engine reads 0 at non-finite positions; use Functional.DeformConv2d).",
                    nameof(call));
        int n = cp.Batch, g = dp.OffsetGroups, k = dp.KernelPoints, oh = cp.OutH, ow = cp.OutW;
        int[] pointShape = [n, g, k, 1, oh, ow];

        var position = call.Offset.Reshape(n, g, k, 2, oh, ow).Add(Grid<T>(dp));
        var corner = PathOps.Floor(position);
        var fraction = path == OffsetPath.IndicesAndCoefficients
            ? position.Sub(corner)
            // NOTE: the ablation. Detaching here cuts p → (ly, lx) → g_q; what is left of p's
            // influence is ⌊p⌋ → gather, whose derivative is 0.
            : position.Detach().Sub(corner.Detach());
        var ly = fraction.Slice(3, 0, 1);
        var lx = fraction.Slice(3, 1, 1);
        var oneMinusLy = ly.Neg().AddScalar(T.One);
        var oneMinusLx = lx.Neg().AddScalar(T.One);
        var coefficients = Tensor<T>.Cat([oneMinusLy.Mul(oneMinusLx), oneMinusLy.Mul(lx), ly.Mul(oneMinusLx), ly.Mul(lx)], axis: 3)
            .Reshape(n, g, k, 4, 1, oh, ow);

        var sample = PathOps.GatherCorners(call.Input, corner).Mul(coefficients).Sum(3)
            .Mul(Inside(position, cp.Height, cp.Width, pointShape));
        if (call.Mask is not null) sample = sample.Mul(call.Mask.Reshape(pointShape));

        // [N, G, K, C/G, OH, OW] → columns [N, C·K, OH·OW] with row c·K + k, as the engine's im2col.
        var columns = sample.Permute(0, 1, 3, 2, 4, 5).Reshape(n, cp.InChannels * k, oh * ow);
        int rowsPerGroup = cp.InChannels / cp.Groups * k, outPerGroup = cp.OutChannels / cp.Groups;
        var perGroup = new Tensor<T>[cp.Groups];
        for (int group = 0; group < cp.Groups; group++)
        {
            var weight = call.Weight.Slice(0, group * outPerGroup, outPerGroup).Reshape(outPerGroup, rowsPerGroup);
            perGroup[group] = columns.Slice(1, group * rowsPerGroup, rowsPerGroup).Transpose(1, 2).MatMul(weight.Transpose(0, 1));
        }
        var output = (cp.Groups == 1 ? perGroup[0] : Tensor<T>.Cat(perGroup, axis: 2)).Transpose(1, 2);
        if (call.Bias is not null) output = output.Add(call.Bias.Reshape(1, cp.OutChannels, 1));
        return output.Reshape(n, cp.OutChannels, oh, ow);
    }

    /// <summary>p0 + p_k = (y·s − pad + i·d, x·s − pad + j·d), shaped [1, G, K, 2, OH, OW].</summary>
    private static Tensor<T> Grid<T>(DeformConv2dParams dp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var cp = dp.Conv;
        int g = dp.OffsetGroups, k = dp.KernelPoints, L = cp.ColumnCols;
        var grid = new T[g * k * 2 * L];
        for (int group = 0; group < g; group++)
            for (int i = 0; i < cp.KernelH; i++)
                for (int j = 0; j < cp.KernelW; j++)
                    for (int y = 0; y < cp.OutH; y++)
                        for (int x = 0; x < cp.OutW; x++)
                        {
                            int at = ((group * k + i * cp.KernelW + j) * 2) * L + y * cp.OutW + x;
                            grid[at] = T.CreateTruncating(y * cp.Stride.H - cp.Padding.H + i * cp.Dilation.H);
                            grid[at + L] = T.CreateTruncating(x * cp.Stride.W - cp.Padding.W + j * cp.Dilation.W);
                        }
        return Tensor<T>.Wrap(grid, 1, g, k, 2, cp.OutH, cp.OutW);
    }

    /// <summary>1 where −1 ≤ p_y &lt; H and −1 ≤ p_x &lt; W, else 0. On the edge −1 the gathered
    /// sample is 0 anyway (ly = 0 weighs the outside row); keeping the edge gives the engine's
    /// torchvision slope there. A constant: like ⌊p⌋ it is a step function of p.</summary>
    private static Tensor<T> Inside<T>(Tensor<T> position, int height, int width, int[] pointShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var p = position.CpuData;
        int positions = pointShape[4] * pointShape[5], points = p.Length / (2 * positions);
        var inside = new T[points * positions];
        for (int point = 0; point < points; point++)
            for (int l = 0; l < positions; l++)
            {
                T y = p[point * 2 * positions + l], x = p[(point * 2 + 1) * positions + l];
                bool isInside = y >= -T.One && y < T.CreateTruncating(height) && x >= -T.One && x < T.CreateTruncating(width);
                inside[point * positions + l] = isInside ? T.One : T.Zero;
            }
        return Tensor<T>.Wrap(inside, pointShape);
    }
}

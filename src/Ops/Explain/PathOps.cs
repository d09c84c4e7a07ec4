namespace DeformEngine.Explain;

/// <summary>The two piecewise-constant steps of bilinear sampling as autograd operations of their
/// own, so that a graph built from them shows where the offset gradient does (and does not) come
/// from. Both pass back exact zeros rather than nothing: the zero is the derivative, not a cut.</summary>
internal static class PathOps
{
    /// <summary>⌊x⌋ elementwise.</summary>
    public static Tensor<T> Floor<T>(Tensor<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = x.CpuData;
        var result = new T[data.Length];
        for (int e = 0; e < data.Length; e++) result[e] = T.Floor(data[e]);
        // NOTE: floor is a step function: its derivative is 0 wherever it exists (and undefined
        // on the integers, a set of measure zero where we take 0 too).
        var shape = x.ShapeArray;
        return Autograd.Record(Tensor<T>.Wrap(result, shape), "Floor", (_, _) => [Tensor<T>.Zeros(shape)], x);
    }

    /// <summary>The four corner values of every sampling point, read at integer corners:
    /// input [N, C, H, W], corner [N, G, K, 2, OH, OW] holding (⌊p_y⌋, ⌊p_x⌋) →
    /// [N, G, K, 4, C/G, OH, OW] with corners in the order lt, rt, lb, rb; a corner outside the
    /// image reads 0. Gradient to the input: the adjoint scatter. Gradient to the corner indices: 0.</summary>
    public static Tensor<T> GatherCorners<T>(Tensor<T> input, Tensor<T> corner) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var inShape = input.ShapeArray;
        var cornerShape = corner.ShapeArray;
        int n = inShape[0], c = inShape[1], h = inShape[2], w = inShape[3];
        int g = cornerShape[1], k = cornerShape[2], positions = cornerShape[4] * cornerShape[5];
        int cg = c / g;
        var src = input.CpuData;
        var idx = corner.CpuData;
        var result = new T[n * g * k * 4 * cg * positions];

        // Calls visit(flat index into the input, flat index into the result) for every corner inside the image.
        void ForEachCorner(Action<int, int> visit)
        {
            for (int b = 0; b < n; b++)
                for (int group = 0; group < g; group++)
                    for (int point = 0; point < k; point++)
                        for (int l = 0; l < positions; l++)
                        {
                            int at = ((b * g + group) * k + point) * 2 * positions + l;
                            int top = int.CreateTruncating(idx[at]), left = int.CreateTruncating(idx[at + positions]);
                            for (int q = 0; q < 4; q++)
                            {
                                int row = top + q / 2, column = left + q % 2;
                                if ((uint)row >= (uint)h || (uint)column >= (uint)w) continue;
                                for (int channel = 0; channel < cg; channel++)
                                    visit(((b * c + group * cg + channel) * h + row) * w + column,
                                        ((((b * g + group) * k + point) * 4 + q) * cg + channel) * positions + l);
                            }
                        }
        }

        ForEachCorner((from, to) => result[to] = src[from]);
        var output = Tensor<T>.Wrap(result, n, g, k, 4, cg, cornerShape[4], cornerShape[5]);
        return Autograd.Record(output, "GatherCorners", (grad, needs) =>
        {
            T[]? gradInput = null;
            if (needs[0])
            {
                var upstream = grad.CpuData;
                var accumulated = new T[src.Length];
                ForEachCorner((from, to) => accumulated[from] += upstream[to]);
                gradInput = accumulated;
            }
            // NOTE: the corner indices are integers; moving the sampling position a little does not
            // change which pixel is read, so the gather's derivative with respect to them is 0.
            return [
                gradInput is null ? null : Tensor<T>.Wrap(gradInput, inShape),
                needs[1] ? Tensor<T>.Zeros(cornerShape) : null];
        }, input, corner);
    }
}

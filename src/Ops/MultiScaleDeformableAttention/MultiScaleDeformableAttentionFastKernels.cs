using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DeformEngine.Kernels;

/// <summary>Fast kernels of <see cref="Functional.MultiScaleDeformableAttention{T}"/>. The value is
/// channels-last already ([N, S, heads, D]): each sampling point is located once (corners and
/// coefficients, <see cref="AttentionLevel{T}"/>) and applied to its head's D contiguous channels as
/// vectors; a corner outside the map reads a row of zeros and writes to a scratch row nobody reads.
/// Work is split into fixed tasks that never depend on the thread count:
/// <list type="bullet">
/// <item>forward: blocks of <see cref="QueryBlock"/> queries of one image; each output row
/// (image, query, head) is summed over levels and points in a fixed order, in registers;</item>
/// <item>backward: one task per (image, head, level). A value row belongs to exactly one level, so
/// the task owns the value-gradient rows of that head and level outright and adds every query's
/// points into them in query order (a deterministic scatter without atomics or private copies);
/// it also owns the location and attention-weight gradients of those points. Every query samples
/// P points in every level, so the tasks are equally long.</item>
/// </list></summary>
internal static unsafe class MultiScaleDeformableAttentionFastKernels
{
    /// <summary>Queries per forward task.</summary>
    public const int QueryBlock = 16;

    private static bool UseVectors => Vector256.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MultiplyAdd<T>(Vector256<T> a, Vector256<T> b, Vector256<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector256.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        throw new NotSupportedException(typeof(T).Name);
    }

    public static void Forward<T>(MultiScaleDeformableAttentionParams parameters, T[] value, T[] locations, T[] weights, T[] output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var levels = AttentionLevel<T>.All(parameters);
        int queries = parameters.Queries, blocks = (queries + QueryBlock - 1) / QueryBlock;
        int heads = parameters.Heads, channels = parameters.HeadChannels, pointsPerHead = parameters.Levels * parameters.Points;
        var zeroRow = GC.AllocateArray<T>(channels, pinned: true);
        ParallelLoop.For(parameters.Batch * blocks, task =>
        {
            int b = task / blocks, first = (task - b * blocks) * QueryBlock, end = Math.Min(first + QueryBlock, queries);
            var cornerRows = new nint[4 * pointsPerHead];
            var cornerWeights = new T[4 * pointsPerHead];
            fixed (T* valueData = value)
            fixed (T* zeros = zeroRow)
            fixed (T* outData = output)
            fixed (nint* rows = cornerRows)
            fixed (T* rowWeights = cornerWeights)
                for (int q = first; q < end; q++)
                    for (int m = 0; m < heads; m++)
                    {
                        int row = (b * queries + q) * heads + m;
                        int count = LocateHead(parameters, levels, locations, weights, valueData, zeros, b, row, m, rows, rowWeights);
                        AccumulateSamples(outData + (long)row * channels, rows, rowWeights, count, channels);
                    }
        });
    }

    /// <summary>The corner rows and coefficients (attention weight · g_q) of every point of output row
    /// <paramref name="row"/> = (image, query, head) that has a corner in its map; returns how many.</summary>
    private static int LocateHead<T>(MultiScaleDeformableAttentionParams parameters, AttentionLevel<T>[] levels, T[] locations, T[] weights,
        T* valueData, T* zeros, int b, int row, int m, nint* rows, T* rowWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int count = 0, channels = parameters.HeadChannels, heads = parameters.Heads;
        for (int l = 0; l < parameters.Levels; l++)
        {
            var level = levels[l];
            for (int p = 0; p < parameters.Points; p++)
            {
                int point = (row * parameters.Levels + l) * parameters.Points + p;
                var corners = level.Corners(locations[2 * point], locations[2 * point + 1]);
                if (!corners.Any) continue;
                T attention = weights[point];
                for (int c = 0; c < 4; c++)
                {
                    var (cornerRow, column, inside, weight, _, _) = corners.Corner(c);
                    long valueRow = ((long)(b * parameters.ValueLength + level.Start + cornerRow * level.Width + column) * heads + m) * channels;
                    rows[4 * count + c] = inside ? (nint)(valueData + valueRow) : (nint)zeros;
                    rowWeights[4 * count + c] = inside ? attention * weight : T.Zero;
                }
                count++;
            }
        }
        return count;
    }

    /// <summary>dest[i] = Σ_k Σ_q w[k, q] · row[k, q][i]: every point's four corners in order, added with
    /// fused multiply-adds into one register per vector of channels (the scalar tail in the same order).</summary>
    private static void AccumulateSamples<T>(T* dest, nint* rows, T* rowWeights, int count, int channels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (UseVectors)
            for (; i <= channels - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var sum = Vector256<T>.Zero;
                for (int k = 0; k < 4 * count; k++)
                    sum = MultiplyAdd(Vector256.Create(rowWeights[k]), Vector256.Load((T*)rows[k] + i), sum);
                sum.Store(dest + i);
            }
        for (; i < channels; i++)
        {
            T sum = T.Zero;
            for (int k = 0; k < 4 * count; k++)
                sum = T.FusedMultiplyAdd(rowWeights[k], ((T*)rows[k])[i], sum);
            dest[i] = sum;
        }
    }

    public static void Backward<T>(MultiScaleDeformableAttentionParams parameters, T[] value, T[] locations, T[] weights, T[] gradOutput,
        T[]? gradValue, T[]? gradLocations, T[]? gradWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var levels = AttentionLevel<T>.All(parameters);
        int heads = parameters.Heads, levelCount = parameters.Levels, channels = parameters.HeadChannels;
        var zeroRow = GC.AllocateArray<T>(channels, pinned: true);
        ParallelLoop.For(parameters.Batch * heads * levelCount, task =>
        {
            int l = task % levelCount, m = task / levelCount % heads, b = task / (levelCount * heads);
            var sinkRow = new T[channels];
            fixed (T* valueData = value)
            fixed (T* zeros = zeroRow)
            fixed (T* sink = sinkRow)
            fixed (T* upstreamData = gradOutput)
            fixed (T* gradValueData = gradValue)
                BackwardLevel(parameters, levels[l], b, m, l, valueData, zeros, sink, upstreamData, gradValueData, locations, weights,
                    gradLocations, gradWeights);
        });
    }

    /// <summary>Every point of head <paramref name="m"/> in level <paramref name="l"/> of image
    /// <paramref name="b"/>, query by query: the four corner sums Σ_d ∂L/∂out_d · v_q,d give the
    /// attention-weight and location gradients; the value gradient adds a · g_q · ∂L/∂out to the corners.</summary>
    private static void BackwardLevel<T>(MultiScaleDeformableAttentionParams parameters, AttentionLevel<T> level, int b, int m, int l,
        T* valueData, T* zeros, T* sink, T* upstreamData, T* gradValueData, T[] locations, T[] weights, T[]? gradLocations, T[]? gradWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int heads = parameters.Heads, channels = parameters.HeadChannels;
        bool sums = gradLocations is not null || gradWeights is not null;
        var valueRows = stackalloc T*[4];
        var gradRows = stackalloc T*[4];
        var cornerWeights = stackalloc T[4];
        for (int q = 0; q < parameters.Queries; q++)
        {
            int row = (b * parameters.Queries + q) * heads + m;
            T* upstream = upstreamData + (long)row * channels;
            for (int p = 0; p < parameters.Points; p++)
            {
                int point = (row * parameters.Levels + l) * parameters.Points + p;
                var corners = level.Corners(locations[2 * point], locations[2 * point + 1]);
                if (!corners.Any) continue;
                T attention = weights[point];
                for (int c = 0; c < 4; c++)
                {
                    var (cornerRow, column, inside, weight, _, _) = corners.Corner(c);
                    long offset = ((long)(b * parameters.ValueLength + level.Start + cornerRow * level.Width + column) * heads + m) * channels;
                    valueRows[c] = inside ? valueData + offset : zeros;
                    gradRows[c] = inside && gradValueData != null ? gradValueData + offset : sink;
                    cornerWeights[c] = weight;
                }
                if (sums)
                {
                    ChannelVectors.CornerSums(upstream, valueRows[0], valueRows[1], valueRows[2], valueRows[3], channels,
                        null, T.Zero, T.Zero, T.Zero, T.Zero, out T sumLt, out T sumRt, out T sumLb, out T sumRb);
                    if (gradWeights is not null)
                        gradWeights[point] = cornerWeights[0] * sumLt + cornerWeights[1] * sumRt + cornerWeights[2] * sumLb + cornerWeights[3] * sumRb;
                    if (gradLocations is not null)
                    {
                        T oneMinusLy = T.One - corners.Ly, oneMinusLx = T.One - corners.Lx;
                        // NOTE: ∂g_q/∂x and ∂g_q/∂y of the four coefficients, then the chain through the
                        // pixel coordinate (W_l and H_l per unit of location).
                        T dx = oneMinusLy * (sumRt - sumLt) + corners.Ly * (sumRb - sumLb);
                        T dy = oneMinusLx * (sumLb - sumLt) + corners.Lx * (sumRb - sumRt);
                        gradLocations[2 * point] = attention * dx * level.ScaleX;
                        gradLocations[2 * point + 1] = attention * dy * level.ScaleY;
                    }
                }
                if (gradValueData != null)
                    ChannelVectors.Scatter(upstream, gradRows[0], gradRows[1], gradRows[2], gradRows[3], attention * cornerWeights[0],
                        attention * cornerWeights[1], attention * cornerWeights[2], attention * cornerWeights[3], channels);
            }
        }
    }
}

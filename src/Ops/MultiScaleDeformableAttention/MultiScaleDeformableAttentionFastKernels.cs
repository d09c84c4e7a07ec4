using System.Runtime.CompilerServices;

namespace DeformEngine.Kernels;

/// <summary>Fast kernels of <see cref="Functional.MultiScaleDeformableAttention{T}"/>. The value is
/// channels-last already ([N, S, heads, D]): each sampling point is located once
/// (<see cref="AttentionLevel{T}.Locate"/>) and applied to its head's D contiguous channels as vectors
/// (<see cref="AttentionVectors"/>); a corner outside the map reads a row of zeros and writes to a
/// scratch row nobody reads. Work is split into fixed tasks that never depend on the thread count:
/// <list type="bullet">
/// <item>forward: blocks of <see cref="QueryBlock"/> queries of one image; each output row
/// (image, query, head) is summed over levels, points and corners in a fixed order, in registers;</item>
/// <item>backward: one task per (image, head), or per (image, head, level) when there are few heads.
/// A value row belongs to one image, one level and, per head, one run of D channels, so the task owns
/// those value-gradient rows outright and adds every query's points into them in query order (a
/// deterministic scatter without atomics or private copies); it also owns the location and
/// attention-weight gradients of its points. Every query samples P points in every level, so the
/// tasks are equally long.</item>
/// </list></summary>
internal static unsafe class MultiScaleDeformableAttentionFastKernels
{
    /// <summary>Queries per forward task.</summary>
    public const int QueryBlock = 16;

    /// <summary>The four corner rows of a located point (a zero row, or the scratch row, for a corner
    /// outside the map) and its coefficients g_lt, g_rt, g_lb, g_rb.</summary>
    private struct CornerRows<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public T* Lt, Rt, Lb, Rb;
        public T Glt, Grt, Glb, Grb;

        /// <summary>Rows at <paramref name="origin"/> + (pixel · heads + head) · D for the corners of
        /// (top, left) in a level of <paramref name="height"/>×<paramref name="width"/> pixels.</summary>
        public CornerRows(T* origin, T* outside, int top, int left, T ly, T lx, int height, int width, int pixelStride)
        {
            bool topIn = top >= 0, bottomIn = top + 1 < height, leftIn = left >= 0, rightIn = left + 1 < width;
            T* lt = origin + ((long)top * width + left) * pixelStride;
            T* lb = lt + (long)width * pixelStride;
            Lt = topIn && leftIn ? lt : outside;
            Rt = topIn && rightIn ? lt + pixelStride : outside;
            Lb = bottomIn && leftIn ? lb : outside;
            Rb = bottomIn && rightIn ? lb + pixelStride : outside;
            T oneMinusLy = T.One - ly, oneMinusLx = T.One - lx;
            Glt = oneMinusLy * oneMinusLx;
            Grt = oneMinusLy * lx;
            Glb = ly * oneMinusLx;
            Grb = ly * lx;
        }
    }

    public static void Forward<T>(MultiScaleDeformableAttentionParams parameters, T[] value, T[] locations, T[] weights, T[] output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var levels = AttentionLevel<T>.All(parameters);
        int queries = parameters.Queries, blocks = (queries + QueryBlock - 1) / QueryBlock;
        int heads = parameters.Heads, channels = parameters.HeadChannels, levelCount = parameters.Levels, points = parameters.Points;
        int pixelStride = heads * channels;
        var zeroRow = GC.AllocateArray<T>(channels, pinned: true);
        ParallelLoop.For(parameters.Batch * blocks, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int b = task / blocks, first = (task - b * blocks) * QueryBlock, end = Math.Min(first + QueryBlock, queries);
            var cornerRows = new nint[4 * levelCount * points];
            var cornerWeights = new T[4 * levelCount * points];
            fixed (T* valueData = value)
            fixed (T* zeros = zeroRow)
            fixed (T* outData = output)
            fixed (T* loc = locations)
            fixed (T* attention = weights)
            fixed (nint* rows = cornerRows)
            fixed (T* rowWeights = cornerWeights)
                for (int q = first; q < end; q++)
                    for (int m = 0; m < heads; m++)
                    {
                        int row = (b * queries + q) * heads + m, terms = 0;
                        for (int l = 0; l < levelCount; l++)
                        {
                            var level = levels[l];
                            T* origin = valueData + ((long)b * parameters.ValueLength + level.Start) * pixelStride + m * channels;
                            for (int p = 0; p < points; p++)
                            {
                                int point = (row * levelCount + l) * points + p;
                                if (!level.Locate(loc[2 * point], loc[2 * point + 1], out int top, out int left, out T ly, out T lx)) continue;
                                var corners = new CornerRows<T>(origin, zeros, top, left, ly, lx, level.Height, level.Width, pixelStride);
                                T a = attention[point];
                                rows[terms] = (nint)corners.Lt;
                                rows[terms + 1] = (nint)corners.Rt;
                                rows[terms + 2] = (nint)corners.Lb;
                                rows[terms + 3] = (nint)corners.Rb;
                                rowWeights[terms] = a * corners.Glt;
                                rowWeights[terms + 1] = a * corners.Grt;
                                rowWeights[terms + 2] = a * corners.Glb;
                                rowWeights[terms + 3] = a * corners.Grb;
                                terms += 4;
                            }
                        }
                        AttentionVectors.WeightedSum(outData + (long)row * channels, rows, rowWeights, terms, channels);
                    }
        });
    }

    public static void Backward<T>(MultiScaleDeformableAttentionParams parameters, T[] value, T[] locations, T[] weights, T[] gradOutput,
        T[]? gradValue, T[]? gradLocations, T[]? gradWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var levels = AttentionLevel<T>.All(parameters);
        int heads = parameters.Heads, levelCount = parameters.Levels, channels = parameters.HeadChannels;
        // Whole heads read each query's locations, weights and upstream row in one contiguous piece;
        // heads split by level keep more threads busy when there are few heads. Either way every
        // value-gradient row receives its terms in query order: the split does not change a bit.
        int splits = parameters.Batch * heads >= 2 * EngineOptions.Threads ? 1 : levelCount;
        var zeroRow = GC.AllocateArray<T>(channels, pinned: true);
        ParallelLoop.For(parameters.Batch * heads * splits, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int task) =>
        {
            int split = task % splits, m = task / splits % heads, b = task / (splits * heads);
            var sinkRow = new T[channels];
            fixed (T* valueData = value)
            fixed (T* zeros = zeroRow)
            fixed (T* sink = sinkRow)
            fixed (T* upstreamData = gradOutput)
            fixed (T* gradValueData = gradValue)
            fixed (T* loc = locations)
            fixed (T* attention = weights)
            fixed (T* gradLoc = gradLocations)
            fixed (T* gradAttention = gradWeights)
                BackwardHead(parameters, levels, b, m, splits == 1 ? 0 : split, splits == 1 ? levelCount : split + 1,
                    new BackwardPointers<T>(valueData, zeros, sink, upstreamData, gradValueData, loc, attention, gradLoc, gradAttention));
        });
    }

    /// <summary>The arrays of one backward call, pinned.</summary>
    private readonly struct BackwardPointers<T>(T* value, T* zeros, T* sink, T* upstream, T* gradValue, T* locations, T* weights,
        T* gradLocations, T* gradWeights) where T : unmanaged
    {
        public readonly T* Value = value, Zeros = zeros, Sink = sink, Upstream = upstream, GradValue = gradValue;
        public readonly T* Locations = locations, Weights = weights, GradLocations = gradLocations, GradWeights = gradWeights;
    }

    /// <summary>Every point of head <paramref name="m"/> of image <paramref name="b"/> in levels
    /// [<paramref name="firstLevel"/>, <paramref name="endLevel"/>), query by query: the four corner sums
    /// Σ_d ∂L/∂out_d · v_q,d give the attention-weight and location gradients; the value gradient adds
    /// a · g_q · ∂L/∂out to the corners.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardHead<T>(MultiScaleDeformableAttentionParams parameters, AttentionLevel<T>[] levels, int b, int m,
        int firstLevel, int endLevel, BackwardPointers<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int heads = parameters.Heads, channels = parameters.HeadChannels, pixelStride = heads * channels;
        int queries = parameters.Queries, levelCount = parameters.Levels, points = parameters.Points;
        long imageOffset = (long)b * parameters.ValueLength * pixelStride + m * channels;
        bool sums = data.GradLocations != null || data.GradWeights != null;
        T* loc = data.Locations;
        for (int q = 0; q < queries; q++)
        {
            int row = (b * queries + q) * heads + m;
            T* upstream = data.Upstream + (long)row * channels;
            for (int l = firstLevel; l < endLevel; l++)
            {
                ref readonly var level = ref levels[l];
                long levelOffset = imageOffset + (long)level.Start * pixelStride;
                for (int p = 0; p < points; p++)
                {
                    int point = (row * levelCount + l) * points + p;
                    if (!level.Locate(loc[2 * point], loc[2 * point + 1], out int top, out int left, out T ly, out T lx)) continue;
                    T a = data.Weights[point];
                    if (sums)
                    {
                        var corners = new CornerRows<T>(data.Value + levelOffset, data.Zeros, top, left, ly, lx, level.Height, level.Width, pixelStride);
                        AttentionVectors.CornerSums(upstream, corners.Lt, corners.Rt, corners.Lb, corners.Rb, channels,
                            out T sumLt, out T sumRt, out T sumLb, out T sumRb);
                        if (data.GradWeights != null)
                            data.GradWeights[point] = corners.Glt * sumLt + corners.Grt * sumRt + corners.Glb * sumLb + corners.Grb * sumRb;
                        if (data.GradLocations != null)
                        {
                            // NOTE: ∂g_q/∂x and ∂g_q/∂y of the four coefficients, then the chain through the
                            // pixel coordinate (W_l and H_l per unit of location).
                            T dx = (T.One - ly) * (sumRt - sumLt) + ly * (sumRb - sumLb);
                            T dy = (T.One - lx) * (sumLb - sumLt) + lx * (sumRb - sumRt);
                            data.GradLocations[2 * point] = a * dx * level.ScaleX;
                            data.GradLocations[2 * point + 1] = a * dy * level.ScaleY;
                        }
                    }
                    if (data.GradValue != null)
                    {
                        var corners = new CornerRows<T>(data.GradValue + levelOffset, data.Sink, top, left, ly, lx, level.Height, level.Width, pixelStride);
                        ChannelVectors.Scatter(upstream, corners.Lt, corners.Rt, corners.Lb, corners.Rb,
                            a * corners.Glt, a * corners.Grt, a * corners.Glb, a * corners.Grb, channels, wide: true);
                    }
                }
            }
        }
    }
}

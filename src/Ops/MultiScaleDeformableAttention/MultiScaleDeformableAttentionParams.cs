namespace DeformEngine;

/// <summary>Sizes of a <see cref="Functional.MultiScaleDeformableAttention{T}"/> call: value [Batch,
/// ValueLength, Heads, HeadChannels] holding the Levels feature maps one after the other (level l:
/// SpatialShapes[l] = (H, W) pixels row-major from LevelStartIndex[l]); sampling locations [Batch, Queries,
/// Heads, Levels, Points, 2]; attention weights [Batch, Queries, Heads, Levels, Points]; output [Batch,
/// Queries, Heads · HeadChannels].</summary>
public sealed record MultiScaleDeformableAttentionParams(int Batch, int ValueLength, int Heads, int HeadChannels, int Queries,
    int Levels, int Points, IReadOnlyList<(int H, int W)> SpatialShapes, IReadOnlyList<int> LevelStartIndex)
{
    /// <summary>Checks every argument of <see cref="Functional.MultiScaleDeformableAttention{T}"/> before any work.</summary>
    internal static MultiScaleDeformableAttentionParams Create<T>(Tensor<T> value, (int H, int W)[] spatialShapes, int[] levelStartIndex,
        Tensor<T> samplingLocations, Tensor<T> attentionWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(spatialShapes);
        ArgumentNullException.ThrowIfNull(levelStartIndex);
        ArgumentNullException.ThrowIfNull(samplingLocations);
        ArgumentNullException.ThrowIfNull(attentionWeights);
        ShapeMath.RequireRank(nameof(value), value.ShapeSpan, 4, "[N, S, heads, channels per head]");
        ShapeMath.RequireRank(nameof(samplingLocations), samplingLocations.ShapeSpan, 6, "[N, queries, heads, levels, points, 2] of (x, y)");
        ShapeMath.RequireRank(nameof(attentionWeights), attentionWeights.ShapeSpan, 5, "[N, queries, heads, levels, points]");
        Functional.RequireSameDevice(nameof(samplingLocations), value, samplingLocations);
        Functional.RequireSameDevice(nameof(attentionWeights), value, attentionWeights);
        SamplingChecks.RequirePositiveSizes(nameof(value), value.ShapeSpan, "[N, S, heads, channels per head]");
        SamplingChecks.RequirePositiveSizes(nameof(samplingLocations), samplingLocations.ShapeSpan, "[N, queries, heads, levels, points, 2]");
        var v = value.ShapeArray;
        var locations = samplingLocations.ShapeArray;
        int batch = v[0], length = v[1], heads = v[2], channels = v[3];
        int queries = locations[1], levels = spatialShapes.Length, points = locations[4];
        RequireLevels(spatialShapes, levelStartIndex, length);
        if (locations[0] != batch || locations[2] != heads || locations[3] != levels || locations[5] != 2)
            throw new ArgumentException(
                $"samplingLocations: expected shape [{batch}, queries, {heads}, {levels}, points, 2] (batch and heads of value " +
                $"{ShapeMath.Format(v)}, {levels} levels of spatialShapes, (x, y) last), got {ShapeMath.Format(locations)}.",
                nameof(samplingLocations));
        ShapeMath.RequireShape(nameof(attentionWeights), attentionWeights.ShapeSpan, locations.AsSpan(0, 5));
        return new MultiScaleDeformableAttentionParams(batch, length, heads, channels, queries, levels, points,
            (((int H, int W)[])spatialShapes.Clone()).AsReadOnly(), ((int[])levelStartIndex.Clone()).AsReadOnly());
    }

    /// <summary>Positive level sizes that tile the value's S rows exactly, and start indices that are
    /// their running sums (mmcv takes both and trusts them; a wrong one reads the wrong rows).</summary>
    private static void RequireLevels((int H, int W)[] spatialShapes, int[] levelStartIndex, int length)
    {
        if (spatialShapes.Length == 0)
            throw new ArgumentException("spatialShapes: expected at least one level (H, W), got none.", nameof(spatialShapes));
        long total = 0;
        for (int l = 0; l < spatialShapes.Length; l++)
        {
            var (h, w) = spatialShapes[l];
            if (h < 1 || w < 1)
                throw new ArgumentException($"spatialShapes: expected positive sizes, got ({h}, {w}) at level {l}.", nameof(spatialShapes));
            total += (long)h * w;
        }
        if (total != length)
            throw new ArgumentException(
                $"spatialShapes: the levels' H·W sum to {total}, but value has S = {length} rows.", nameof(spatialShapes));
        if (levelStartIndex.Length != spatialShapes.Length)
            throw new ArgumentException(
                $"levelStartIndex: expected {spatialShapes.Length} entries (one per level of spatialShapes), got {levelStartIndex.Length}.",
                nameof(levelStartIndex));
        int start = 0;
        for (int l = 0; l < spatialShapes.Length; l++)
        {
            if (levelStartIndex[l] != start)
                throw new ArgumentException(
                    $"levelStartIndex: expected {start} at level {l} (the sum of H·W of the levels before it), got {levelStartIndex[l]}.",
                    nameof(levelStartIndex));
            start += spatialShapes[l].H * spatialShapes[l].W;
        }
    }
}

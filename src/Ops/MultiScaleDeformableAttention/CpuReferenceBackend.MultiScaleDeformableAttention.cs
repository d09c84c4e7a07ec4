using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IMultiScaleDeformableAttentionBackend"/>: one loop over (image, query,
/// head, level, point), the corners of each point (<see cref="AttentionLevel{T}.Corners"/>) once for all
/// channels of its head.</summary>
public partial class CpuReferenceBackend : IMultiScaleDeformableAttentionBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> MultiScaleDeformableAttention<T>(MultiScaleDeformableAttentionParams parameters, Tensor<T> value,
        Tensor<T> samplingLocations, Tensor<T> attentionWeights)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var levels = AttentionLevel<T>.All(parameters);
        var (n, s, heads, channels, queries) = (parameters.Batch, parameters.ValueLength, parameters.Heads, parameters.HeadChannels,
            parameters.Queries);
        var (levelCount, points) = (parameters.Levels, parameters.Points);
        var values = value.CpuData;
        var locations = samplingLocations.CpuData;
        var weights = attentionWeights.CpuData;
        var result = new T[n * queries * heads * channels];
        for (int b = 0; b < n; b++)
            for (int q = 0; q < queries; q++)
                for (int m = 0; m < heads; m++)
                {
                    int outRow = ((b * queries + q) * heads + m) * channels;
                    for (int l = 0; l < levelCount; l++)
                        for (int p = 0; p < points; p++)
                        {
                            int point = (((b * queries + q) * heads + m) * levelCount + l) * points + p;
                            var level = levels[l];
                            var corners = level.Corners(locations[2 * point], locations[2 * point + 1]);
                            if (!corners.Any) continue;
                            T attention = weights[point];
                            for (int c = 0; c < 4; c++)
                            {
                                var (row, column, inside, weight, _, _) = corners.Corner(c);
                                if (!inside) continue;
                                int valueRow = ((b * s + level.Start + row * level.Width + column) * heads + m) * channels;
                                for (int d = 0; d < channels; d++)
                                    result[outRow + d] += attention * weight * values[valueRow + d];
                            }
                        }
                }
        return Tensor<T>.Wrap(result, n, queries, heads * channels);
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] MultiScaleDeformableAttentionBackward<T>(MultiScaleDeformableAttentionParams parameters,
        Tensor<T> gradOutput, Tensor<T> value, Tensor<T> samplingLocations, Tensor<T> attentionWeights, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var levels = AttentionLevel<T>.All(parameters);
        var (n, s, heads, channels, queries) = (parameters.Batch, parameters.ValueLength, parameters.Heads, parameters.HeadChannels,
            parameters.Queries);
        var (levelCount, points) = (parameters.Levels, parameters.Points);
        var values = value.CpuData;
        var locations = samplingLocations.CpuData;
        var weights = attentionWeights.CpuData;
        var g = gradOutput.CpuData;
        var gradValue = needs[0] ? new T[values.Length] : null;
        var gradLocations = needs[1] ? new T[locations.Length] : null;
        var gradWeights = needs[2] ? new T[weights.Length] : null;
        for (int b = 0; b < n; b++)
            for (int q = 0; q < queries; q++)
                for (int m = 0; m < heads; m++)
                {
                    int outRow = ((b * queries + q) * heads + m) * channels;
                    for (int l = 0; l < levelCount; l++)
                        for (int p = 0; p < points; p++)
                        {
                            int point = (((b * queries + q) * heads + m) * levelCount + l) * points + p;
                            var level = levels[l];
                            var corners = level.Corners(locations[2 * point], locations[2 * point + 1]);
                            if (!corners.Any) continue;
                            T attention = weights[point];
                            T sample = T.Zero, dy = T.Zero, dx = T.Zero;
                            for (int c = 0; c < 4; c++)
                            {
                                var (row, column, inside, weight, weightDy, weightDx) = corners.Corner(c);
                                if (!inside) continue;
                                int valueRow = ((b * s + level.Start + row * level.Width + column) * heads + m) * channels;
                                for (int d = 0; d < channels; d++)
                                {
                                    T upstream = g[outRow + d], v = values[valueRow + d];
                                    if (gradValue is not null) gradValue[valueRow + d] += attention * weight * upstream;
                                    sample += weight * v * upstream;
                                    dy += weightDy * v * upstream;
                                    dx += weightDx * v * upstream;
                                }
                            }
                            if (gradWeights is not null) gradWeights[point] = sample;
                            if (gradLocations is not null)
                            {
                                // NOTE: the chain through the pixel coordinate: ∂x_pix/∂loc_x = W_l, ∂y_pix/∂loc_y = H_l.
                                gradLocations[2 * point] = attention * dx * level.ScaleX;
                                gradLocations[2 * point + 1] = attention * dy * level.ScaleY;
                            }
                        }
                }
        return [
            gradValue is null ? null : Tensor<T>.Wrap(gradValue, value.ShapeArray),
            gradLocations is null ? null : Tensor<T>.Wrap(gradLocations, samplingLocations.ShapeArray),
            gradWeights is null ? null : Tensor<T>.Wrap(gradWeights, attentionWeights.ShapeArray)];
    }
}

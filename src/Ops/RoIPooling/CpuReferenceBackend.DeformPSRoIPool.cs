using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IDeformPSRoIPoolBackend"/>: MXNet's rounded RoIs
/// (<see cref="DeformPSRoIPoolGeometry{T}"/>), each bin's S × S corner grid read with MXNet's border rule.</summary>
public partial class CpuReferenceBackend : IDeformPSRoIPoolBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> DeformPSRoIPool<T>(DeformPSRoIPoolParams parameters, Tensor<T> input, Tensor<T> rois, Tensor<T>? trans)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (c, h, w, k) = (parameters.Channels, parameters.Height, parameters.Width, parameters.Rois);
        var (outputDim, pooledSize, samplePerPart) = (parameters.OutputDim, parameters.PooledSize, parameters.Samples);
        var geometry = new DeformPSRoIPoolGeometry<T>(parameters, rois, trans?.CpuData);
        var src = input.CpuData;
        var result = new T[k * outputDim * pooledSize * pooledSize];
        int plane = h * w, bins = pooledSize * pooledSize;
        for (int r = 0; r < k; r++)
            for (int co = 0; co < outputDim; co++)
                for (int i = 0; i < pooledSize; i++)
                    for (int j = 0; j < pooledSize; j++)
                    {
                        var bin = geometry.Bin(r, co, i, j);
                        var source = src.AsSpan((geometry.Batch(r) * c + bin.Channel) * plane, plane);
                        T sum = T.Zero;
                        int kept = 0;
                        for (int iy = 0; iy < samplePerPart; iy++)
                            for (int ix = 0; ix < samplePerPart; ix++)
                            {
                                var sample = RoIBilinear<T>.Mxnet(bin.SampleY(iy), bin.SampleX(ix), h, w);
                                if (!sample.Inside) continue;
                                sum += sample.Sample(source, w);
                                kept++;
                            }
                        result[(r * outputDim + co) * bins + i * pooledSize + j] = kept == 0 ? T.Zero : sum / T.CreateTruncating(kept);
                    }

        return Tensor<T>.Wrap(result, k, outputDim, pooledSize, pooledSize);
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] DeformPSRoIPoolBackward<T>(DeformPSRoIPoolParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> rois, Tensor<T>? trans, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (c, h, w, k) = (parameters.Channels, parameters.Height, parameters.Width, parameters.Rois);
        var (outputDim, pooledSize, samplePerPart) = (parameters.OutputDim, parameters.PooledSize, parameters.Samples);
        var geometry = new DeformPSRoIPoolGeometry<T>(parameters, rois, trans?.CpuData);
        var src = input.CpuData;
        int plane = h * w, bins = pooledSize * pooledSize;
        var upstream = gradOutput.CpuData;
        var gradInput = needs[0] ? new T[src.Length] : null;
        var gradTrans = trans is not null && needs[1] ? new T[trans.Numel] : null;
        for (int r = 0; r < k; r++)
            for (int co = 0; co < outputDim; co++)
                for (int i = 0; i < pooledSize; i++)
                    for (int j = 0; j < pooledSize; j++)
                    {
                        var bin = geometry.Bin(r, co, i, j);
                        int planeStart = (geometry.Batch(r) * c + bin.Channel) * plane;
                        var source = src.AsSpan(planeStart, plane);
                        int kept = 0;
                        T dy = T.Zero, dx = T.Zero;
                        for (int iy = 0; iy < samplePerPart; iy++)
                            for (int ix = 0; ix < samplePerPart; ix++)
                            {
                                var sample = RoIBilinear<T>.Mxnet(bin.SampleY(iy), bin.SampleX(ix), h, w);
                                if (!sample.Inside) continue;
                                kept++;
                                var (sy, sx) = sample.Gradient(source, w);
                                dy += sy;
                                dx += sx;
                            }
                        if (kept == 0) continue;
                        T perSample = upstream[(r * outputDim + co) * bins + i * pooledSize + j] / T.CreateTruncating(kept);
                        if (gradInput is not null)
                            for (int iy = 0; iy < samplePerPart; iy++)
                                for (int ix = 0; ix < samplePerPart; ix++)
                                    RoIBilinear<T>.Mxnet(bin.SampleY(iy), bin.SampleX(ix), h, w)
                                        .Scatter(gradInput.AsSpan(planeStart, plane), w, perSample);
                        if (gradTrans is not null)
                        {
                            // NOTE: the number of kept samples is piecewise constant in the offset
                            // (it jumps when a sample crosses the −½ margin); like MXNet we treat
                            // it as a constant. At an integer sample coordinate MXNet's
                            // floor/ceil corners coincide and give slope 0; we take the right-hand
                            // slope. Elsewhere, clamped band included (slope 0), the two agree.
                            gradTrans[geometry.TransIndex(r, bin.Class, 0, bin.PartY, bin.PartX)] +=
                                geometry.TransStd * geometry.Width(r) * dx * perSample;
                            gradTrans[geometry.TransIndex(r, bin.Class, 1, bin.PartY, bin.PartX)] +=
                                geometry.TransStd * geometry.Height(r) * dy * perSample;
                        }
                    }
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradTrans is null ? null : Tensor<T>.Wrap(gradTrans, trans!.ShapeArray)];
    }
}

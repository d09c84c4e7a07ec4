using System.Numerics;
using DeformEngine.Kernels;
using static System.FormattableString;

namespace DeformEngine;

/// <summary>Deformable position-sensitive RoI pooling (DCNv1, R-FCN head) with the semantics of
/// MXNet's DeformablePSROIPooling. With P = pooledSize, G = groupSize, S = samplePerPart, s = spatialScale:
/// the RoI is rounded, x0 = round(x1)·s − ½, w = max((round(x2) + 1)·s − ½ − x0, 0.1) (y likewise);
/// bin (i, j) of output channel c reads input channel (c·G + gh)·G + gw with gh = ⌊i·G/P⌋,
/// gw = ⌊j·G/P⌋; it is moved by the part (pi, pj) = (⌊i·part/P⌋, ⌊j·part/P⌋) of class
/// cls = c / (outputDim / numClasses): Δx = transStd·trans[k, 2·cls, pi, pj]·w,
/// Δy = transStd·trans[k, 2·cls + 1, pi, pj]·h. Its samples sit at the bin's corner grid
/// x = x0 + j·w/P + Δx + ix·w/(P·S), y likewise, ix, iy &lt; S; a sample with x &lt; −½, x &gt; W − ½
/// (y likewise) is skipped, the rest are clamped to the plane and read bilinearly, and
/// out[k, c, i, j] = mean over the kept samples (0 when none is kept).
/// Gradients: ∂L/∂input[b, ch, q] += g_q / kept · ∂L/∂out; ∂L/∂trans[k, 2·cls, pi, pj] +=
/// transStd·w · Σ_samples ∂bilinear/∂x / kept · ∂L/∂out (y likewise with h), summed over every bin
/// and channel that uses the part; rois get none.</summary>
public static partial class Functional
{
    /// <param name="input">Features [N, outputDim·G², H, W].</param>
    /// <param name="rois">[K, 5] rows (batch index, x1, y1, x2, y2); not differentiated.</param>
    /// <param name="trans">[K, 2·numClasses, part, part] normalised part offsets, channel 2·cls = x,
    /// 2·cls + 1 = y; ignored (may be null) when <paramref name="noTrans"/>.</param>
    /// <param name="spatialScale">Feature-map pixels per image pixel.</param>
    /// <param name="outputDim">Output channels, a multiple of numClasses.</param>
    /// <param name="groupSize">Position-sensitive groups per side G.</param>
    /// <param name="pooledSize">Bins per side P.</param>
    /// <param name="partSize">Offset parts per side; 0 means P (MXNet's default).</param>
    /// <param name="samplePerPart">Samples per bin side S.</param>
    /// <param name="transStd">Scale of the offsets (MXNet's default 0 disables them).</param>
    /// <param name="noTrans">Pool without offsets (plain PS RoI pooling with MXNet's sampling).</param>
    /// <returns>[K, outputDim, P, P].</returns>
    public static Tensor<T> DeformPSRoIPool<T>(Tensor<T> input, Tensor<T> rois, Tensor<T>? trans, double spatialScale,
        int outputDim, int groupSize, int pooledSize, int partSize = 0, int samplePerPart = 1, double transStd = 0.0,
        bool noTrans = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w) = RoIChecks.RequireFeatureMap(input);
        int k = RoIChecks.RequireRois(rois, input, n);
        RoIChecks.RequireSpatialScale(spatialScale);
        RoIChecks.RequirePositive(nameof(outputDim), outputDim);
        RoIChecks.RequirePositive(nameof(groupSize), groupSize);
        RoIChecks.RequirePositive(nameof(pooledSize), pooledSize);
        if (partSize < 0)
            throw new ArgumentOutOfRangeException(nameof(partSize), partSize,
                Invariant($"partSize: expected ≥ 1, or 0 for pooledSize, got {partSize}."));
        RoIChecks.RequirePositive(nameof(samplePerPart), samplePerPart, RoIChecks.MaxGridPerSide);
        RoIChecks.RequireFinite(nameof(transStd), transStd);
        if ((long)outputDim * groupSize * groupSize != c)
            throw new ArgumentException(
                Invariant($"input: expected outputDim·groupSize² = {outputDim}·{groupSize}² = {(long)outputDim * groupSize * groupSize} channels, got {c} (shape {ShapeMath.Format(input.ShapeSpan)})."),
                nameof(input));
        int parts = partSize == 0 ? pooledSize : partSize;
        int classes = 1;
        if (!noTrans)
        {
            RoIChecks.RequireTensor(nameof(trans), trans!, input);
            var shape = trans!.ShapeArray;
            if (shape.Length != 4 || shape[0] != k || shape[1] < 2 || shape[1] % 2 != 0 || shape[2] != parts || shape[3] != parts)
                throw new ArgumentException(
                    $"trans: expected shape [K, 2·numClasses, part, part] = [{k}, 2·numClasses, {parts}, {parts}], got {ShapeMath.Format(shape)}.",
                    nameof(trans));
            classes = shape[1] / 2;
            if (outputDim % classes != 0)
                throw new ArgumentException(
                    $"trans: its {shape[1]} channels make {classes} classes, which do not divide outputDim = {outputDim}.", nameof(trans));
        }

        if (!input.Device.IsCpu)
            return DeformPSRoIPoolOnDevice(input, rois, noTrans ? null : trans, spatialScale,
                new DeformPSRoIPoolShape(n, c, h, w, k, outputDim, groupSize, pooledSize, parts, samplePerPart, classes, transStd));
        var geometry = new DeformPSRoIPoolGeometry<T>(rois, spatialScale, outputDim, groupSize, pooledSize, parts,
            samplePerPart, transStd, classes, noTrans ? null : trans!.CpuData);
        var src = input.CpuData;
        var result = new T[ShapeMath.Numel([k, outputDim, pooledSize, pooledSize], nameof(pooledSize))];
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

        var output = Tensor<T>.Wrap(result, k, outputDim, pooledSize, pooledSize);
        return Autograd.Record(output, "DeformPSRoIPool", (grad, needs) =>
        {
            var upstream = grad.CpuData;
            var gradInput = needs[0] ? new T[src.Length] : null;
            var gradTrans = needs.Length > 1 && needs[1] ? new T[trans!.Numel] : null;
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
        }, noTrans ? [input] : [input, trans]);
    }
}

/// <summary>RoI and bin geometry of <see cref="Functional.DeformPSRoIPool{T}"/> (MXNet's rounded RoIs
/// with the +1 end and the −½ pixel shift).</summary>
internal sealed class DeformPSRoIPoolGeometry<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _batch;
    private readonly T[] _startY, _startX, _height, _width;
    private readonly T[]? _trans;
    private readonly int _outputDim, _groupSize, _pooledSize, _parts, _samples, _classes;

    public T TransStd { get; }

    public DeformPSRoIPoolGeometry(Tensor<T> rois, double spatialScale, int outputDim, int groupSize, int pooledSize,
        int parts, int samplePerPart, double transStd, int classes, T[]? trans)
    {
        var data = RoIChecks.HostRois(rois);
        int count = rois.ShapeArray[0];
        _batch = new int[count];
        _startY = new T[count];
        _startX = new T[count];
        _height = new T[count];
        _width = new T[count];
        T scale = T.CreateChecked(spatialScale), half = T.CreateTruncating(0.5), minimum = T.CreateTruncating(0.1);
        for (int k = 0; k < count; k++)
        {
            _batch[k] = int.CreateTruncating(data[k * 5]);
            // NOTE: MXNet rounds the RoI to whole image pixels (C round: halves away from zero)
            // and treats x2 as inclusive (+1), unlike torchvision and mmcv.
            _startX[k] = Round(data[k * 5 + 1]) * scale - half;
            _startY[k] = Round(data[k * 5 + 2]) * scale - half;
            T endX = (Round(data[k * 5 + 3]) + T.One) * scale - half;
            T endY = (Round(data[k * 5 + 4]) + T.One) * scale - half;
            _width[k] = T.Max(endX - _startX[k], minimum);
            _height[k] = T.Max(endY - _startY[k], minimum);
        }
        _trans = trans;
        _outputDim = outputDim;
        _groupSize = groupSize;
        _pooledSize = pooledSize;
        _parts = parts;
        _samples = samplePerPart;
        _classes = classes;
        TransStd = T.CreateChecked(transStd);
    }

    private static T Round(T value) => T.Round(value, MidpointRounding.AwayFromZero);

    public int Batch(int roi) => _batch[roi];
    public T Width(int roi) => _width[roi];
    public T Height(int roi) => _height[roi];
    public T StartY(int roi) => _startY[roi];
    public T StartX(int roi) => _startX[roi];

    public int TransIndex(int roi, int cls, int axis, int partY, int partX) =>
        (((roi * _classes + cls) * 2 + axis) * _parts + partY) * _parts + partX;

    /// <summary>Bin (i, j) of output channel c of RoI k: its input channel, class, part, and the
    /// top-left sample of its S × S grid.</summary>
    public DeformPSRoIPoolBin<T> Bin(int roi, int channel, int i, int j)
    {
        T bins = T.CreateTruncating(_pooledSize), samples = T.CreateTruncating(_samples);
        T binHeight = _height[roi] / bins, binWidth = _width[roi] / bins;
        // Integer forms of MXNet's ⌊i / P · part⌋ and ⌊i · G / P⌋ (both below part and G since i < P,
        // so MXNet's clamp of the group index never acts).
        int partY = (int)((long)i * _parts / _pooledSize), partX = (int)((long)j * _parts / _pooledSize);
        int groupY = (int)((long)i * _groupSize / _pooledSize), groupX = (int)((long)j * _groupSize / _pooledSize);
        int cls = channel / (_outputDim / _classes);
        T transY = T.Zero, transX = T.Zero;
        if (_trans is not null)
        {
            transX = _trans[TransIndex(roi, cls, 0, partY, partX)] * TransStd;
            transY = _trans[TransIndex(roi, cls, 1, partY, partX)] * TransStd;
        }
        T startX = T.CreateTruncating(j) * binWidth + _startX[roi] + transX * _width[roi];
        T startY = T.CreateTruncating(i) * binHeight + _startY[roi] + transY * _height[roi];
        return new DeformPSRoIPoolBin<T>((channel * _groupSize + groupY) * _groupSize + groupX, cls, partY, partX,
            startY, startX, binHeight / samples, binWidth / samples);
    }
}

/// <summary>One bin of <see cref="Functional.DeformPSRoIPool{T}"/>; sample (iy, ix) sits at
/// (startY + iy·stepY, startX + ix·stepX).</summary>
internal readonly record struct DeformPSRoIPoolBin<T>(int Channel, int Class, int PartY, int PartX,
    T StartY, T StartX, T StepY, T StepX) where T : unmanaged, IFloatingPointIeee754<T>
{
    public T SampleY(int iy) => StartY + T.CreateTruncating(iy) * StepY;
    public T SampleX(int ix) => StartX + T.CreateTruncating(ix) * StepX;
}

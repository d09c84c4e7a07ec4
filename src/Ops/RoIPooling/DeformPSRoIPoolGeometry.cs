using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>RoI and bin geometry of <see cref="Functional.DeformPSRoIPool{T}"/> (MXNet's rounded RoIs
/// with the +1 end and the −½ pixel shift).</summary>
internal sealed class DeformPSRoIPoolGeometry<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int[] _batch;
    private readonly T[] _startY, _startX, _height, _width;
    private readonly T[]? _trans;
    private readonly int _outputDim, _groupSize, _pooledSize, _parts, _samples, _classes;

    public T TransStd { get; }

    public DeformPSRoIPoolGeometry(DeformPSRoIPoolParams parameters, Tensor<T> rois, T[]? trans)
    {
        double spatialScale = parameters.SpatialScale;
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
        _outputDim = parameters.OutputDim;
        _groupSize = parameters.GroupSize;
        _pooledSize = parameters.PooledSize;
        _parts = parameters.Parts;
        _samples = parameters.Samples;
        _classes = parameters.Classes;
        TransStd = T.CreateChecked(parameters.TransStd);
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

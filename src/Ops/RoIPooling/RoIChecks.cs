using System.Numerics;
using DeformEngine.Kernels;
using static System.FormattableString;

namespace DeformEngine;

/// <summary>Argument checks and RoI geometry shared by the RoI pooling operators. Everything here
/// runs before an operator reads or writes tensor data.</summary>
internal static class RoIChecks
{
    /// <summary>Largest sampling grid per side of a bin (a positive samplingRatio, the adaptive
    /// ⌈roi size / bins⌉, or MXNet's samplePerPart), so that gridH·gridW fits an int and a RoI with
    /// absurd coordinates fails fast instead of sampling for hours.</summary>
    public const int MaxGridPerSide = 1 << 15;

    /// <summary>The input feature map: rank 4 with at least one pixel.</summary>
    public static (int N, int C, int H, int W) RequireFeatureMap<T>(Tensor<T> input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        var shape = input.ShapeArray;
        if (shape[2] < 1 || shape[3] < 1)
            throw new ArgumentException(
                $"input: expected a feature map of at least 1×1 pixels, got shape {ShapeMath.Format(shape)}.", nameof(input));
        return (shape[0], shape[1], shape[2], shape[3]);
    }

    /// <summary>rois [K, 5] rows (batch index, x1, y1, x2, y2): finite, the batch index an integer in
    /// [0, N), x1 ≤ x2 and y1 ≤ y2. Returns K.</summary>
    public static int RequireRois<T>(Tensor<T> rois, Tensor<T> input, int batchSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireTensor(nameof(rois), rois, input);
        var shape = rois.ShapeArray;
        if (shape.Length != 2 || shape[1] != 5)
            throw new ArgumentException(
                $"rois: expected shape [K, 5] with rows (batch index, x1, y1, x2, y2), got {ShapeMath.Format(shape)}.", nameof(rois));
        var data = HostRois(rois);
        for (int k = 0; k < shape[0]; k++)
        {
            double b = double.CreateChecked(data[k * 5]);
            double x1 = double.CreateChecked(data[k * 5 + 1]), y1 = double.CreateChecked(data[k * 5 + 2]);
            double x2 = double.CreateChecked(data[k * 5 + 3]), y2 = double.CreateChecked(data[k * 5 + 4]);
            if (!(double.IsFinite(b) && double.IsFinite(x1) && double.IsFinite(y1) && double.IsFinite(x2) && double.IsFinite(y2)))
                throw new ArgumentException(
                    Invariant($"rois: row {k} = ({b}, {x1}, {y1}, {x2}, {y2}) is not finite; expected finite coordinates."), nameof(rois));
            if (b != Math.Floor(b) || b < 0 || b >= batchSize)
                throw new ArgumentOutOfRangeException(nameof(rois), b,
                    Invariant($"rois: row {k} has batch index {b}; expected an integer in [0, {batchSize}) for an input of batch size {batchSize}."));
            if (x2 < x1)
                throw new ArgumentException(
                    Invariant($"rois: row {k} has x2 = {x2} < x1 = {x1}; expected x1 ≤ x2 (rows are (batch index, x1, y1, x2, y2))."), nameof(rois));
            if (y2 < y1)
                throw new ArgumentException(
                    Invariant($"rois: row {k} has y2 = {y2} < y1 = {y1}; expected y1 ≤ y2 (rows are (batch index, x1, y1, x2, y2))."), nameof(rois));
        }
        return shape[0];
    }

    /// <summary>The rois' values on the host, where the checks and the RoI geometry read them (a device
    /// tensor's K×5 values are read back).</summary>
    public static T[] HostRois<T>(Tensor<T> rois) where T : unmanaged, IFloatingPointIeee754<T> =>
        rois.Device.IsCpu ? rois.CpuData : rois.ToArray();

    /// <summary>A tensor argument: not null, on the device of input.</summary>
    public static void RequireTensor<T>(string argumentName, Tensor<T> tensor, Tensor<T> input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensor, argumentName);
        if (!ReferenceEquals(tensor.Device, input.Device))
            throw new ArgumentException(
                $"{argumentName}: expected a tensor on '{input.Device.Name}' like input, got one on '{tensor.Device.Name}'.", argumentName);
    }

    /// <summary>A per-bin tensor such as an offset or a mask: not null, same device, exact shape.</summary>
    public static void RequireShape<T>(string argumentName, Tensor<T> tensor, Tensor<T> input, int[] expected, string layout)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        RequireTensor(argumentName, tensor, input);
        if (!tensor.ShapeSpan.SequenceEqual(expected))
            throw new ArgumentException(
                $"{argumentName}: expected shape {layout} = {ShapeMath.Format(expected)}, got {ShapeMath.Format(tensor.ShapeSpan)}.", argumentName);
    }

    public static void RequireOutputSize((int H, int W) outputSize, string argumentName = "outputSize")
    {
        if (outputSize.H < 1 || outputSize.W < 1)
            throw new ArgumentOutOfRangeException(argumentName, outputSize,
                $"{argumentName}: expected at least 1×1 bins, got ({outputSize.H}, {outputSize.W}).");
    }

    public static void RequirePositive(string argumentName, int value, int max = int.MaxValue)
    {
        if (value < 1 || value > max)
            throw new ArgumentOutOfRangeException(argumentName, value, max == int.MaxValue
                ? Invariant($"{argumentName}: expected ≥ 1, got {value}.")
                : Invariant($"{argumentName}: expected an integer in [1, {max}], got {value}."));
    }

    public static void RequireSpatialScale(double spatialScale)
    {
        if (!(double.IsFinite(spatialScale) && spatialScale > 0))
            throw new ArgumentOutOfRangeException(nameof(spatialScale), spatialScale,
                Invariant($"spatialScale: expected a finite value > 0 (feature-map pixels per image pixel), got {spatialScale}."));
    }

    public static void RequireFinite(string argumentName, double value)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(argumentName, value, Invariant($"{argumentName}: expected a finite value, got {value}."));
    }

    public static void RequireSamplingRatio(int samplingRatio)
    {
        if (samplingRatio > MaxGridPerSide)
            throw new ArgumentOutOfRangeException(nameof(samplingRatio), samplingRatio,
                Invariant($"samplingRatio: expected ≤ 0 (adaptive) or a grid of 1 to {MaxGridPerSide} samples per side, got {samplingRatio}."));
    }

    /// <summary>The RoI windows of torchvision's roi_align (and ps_roi_align, mmcv's deform_roi_pool,
    /// which are roi_align with aligned = true): start = x1·scale − ½ when aligned, x1·scale when not;
    /// extent = (x2 − x1)·scale, at least 1 pixel when not aligned; grid per side = samplingRatio
    /// when positive, else ⌈extent / bins⌉.</summary>
    public static RoIWindow<T>[] AlignWindows<T>(Tensor<T> rois, (int H, int W) outputSize, double spatialScale,
        int samplingRatio, bool aligned) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = HostRois(rois);
        int count = rois.ShapeArray[0];
        var windows = new RoIWindow<T>[count];
        T scale = T.CreateChecked(spatialScale);
        T shift = aligned ? T.One / (T.One + T.One) : T.Zero;
        T binsY = T.CreateTruncating(outputSize.H), binsX = T.CreateTruncating(outputSize.W);
        for (int k = 0; k < count; k++)
        {
            T startX = data[k * 5 + 1] * scale - shift, startY = data[k * 5 + 2] * scale - shift;
            T width = data[k * 5 + 3] * scale - shift - startX, height = data[k * 5 + 4] * scale - shift - startY;
            if (!aligned)
            {
                // torchvision's legacy (Detectron) mode forces RoIs smaller than a pixel to 1×1.
                width = T.Max(width, T.One);
                height = T.Max(height, T.One);
            }
            int gridH = samplingRatio > 0 ? samplingRatio : AdaptiveGrid(height, binsY, k);
            int gridW = samplingRatio > 0 ? samplingRatio : AdaptiveGrid(width, binsX, k);
            windows[k] = new RoIWindow<T>(int.CreateTruncating(data[k * 5]), startY, startX, height, width,
                height / binsY, width / binsX, gridH, gridW);
        }
        return windows;
    }

    private static int AdaptiveGrid<T>(T extent, T bins, int roiIndex) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T grid = T.Ceiling(extent / bins);
        if (!(grid <= T.CreateTruncating(MaxGridPerSide)))
            throw new ArgumentOutOfRangeException("rois", double.CreateChecked(extent),
                Invariant($"rois: row {roiIndex} spans {double.CreateChecked(extent)} feature-map pixels, so adaptive sampling would take {double.CreateChecked(grid)} samples per bin side (at most {MaxGridPerSide}); pass a positive samplingRatio or check the RoI coordinates and spatialScale."));
        return int.CreateTruncating(grid);
    }
}

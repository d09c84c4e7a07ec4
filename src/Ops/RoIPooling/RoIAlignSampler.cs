using System.Numerics;

namespace DeformEngine.Kernels;

/// <summary>The bin average shared by RoIAlign, PSRoIAlign and DeformRoIPool (torchvision and mmcv):
/// bin (i, j) of a window, moved by (shiftY, shiftX), averages the samples at
/// y = (startY + shiftY) + i·binH + (iy + ½)·binH/gridH, x = (startX + shiftX) + j·binW + (ix + ½)·binW/gridW
/// for iy &lt; gridH, ix &lt; gridW, each read with the torchvision border rule
/// (<see cref="RoIBilinear{T}.TorchVision"/>).</summary>
internal static class RoIAlignSampler
{
    public static T Average<T>(ReadOnlySpan<T> plane, int height, int width, in RoIWindow<T> window,
        int binY, int binX, T shiftY, T shiftX) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        for (int iy = 0; iy < window.GridH; iy++)
        {
            T y = SampleY(window, binY, iy, shiftY);
            for (int ix = 0; ix < window.GridW; ix++)
                sum += RoIBilinear<T>.TorchVision(y, SampleX(window, binX, ix, shiftX), height, width).Sample(plane, width);
        }
        return sum / window.Count;
    }

    /// <summary>The adjoint of <see cref="Average{T}"/>: adds upstream · g_q / count to each corner
    /// of each sample.</summary>
    public static void Scatter<T>(Span<T> gradPlane, int height, int width, in RoIWindow<T> window,
        int binY, int binX, T shiftY, T shiftX, T upstream) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T perSample = upstream / window.Count;
        for (int iy = 0; iy < window.GridH; iy++)
        {
            T y = SampleY(window, binY, iy, shiftY);
            for (int ix = 0; ix < window.GridW; ix++)
                RoIBilinear<T>.TorchVision(y, SampleX(window, binX, ix, shiftX), height, width).Scatter(gradPlane, width, perSample);
        }
    }

    /// <summary>∂Average/∂shiftY and ∂Average/∂shiftX: every sample of the bin moves with the shift,
    /// so these are the means of the samples' coordinate derivatives.</summary>
    public static (T Dy, T Dx) ShiftGradient<T>(ReadOnlySpan<T> plane, int height, int width, in RoIWindow<T> window,
        int binY, int binX, T shiftY, T shiftX) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T dy = T.Zero, dx = T.Zero;
        for (int iy = 0; iy < window.GridH; iy++)
        {
            T y = SampleY(window, binY, iy, shiftY);
            for (int ix = 0; ix < window.GridW; ix++)
            {
                var (sy, sx) = RoIBilinear<T>.TorchVision(y, SampleX(window, binX, ix, shiftX), height, width).Gradient(plane, width);
                dy += sy;
                dx += sx;
            }
        }
        return (dy / window.Count, dx / window.Count);
    }

    private static T SampleY<T>(in RoIWindow<T> window, int binY, int iy, T shiftY) where T : unmanaged, IFloatingPointIeee754<T> =>
        window.StartY + shiftY + T.CreateTruncating(binY) * window.BinHeight
        + (T.CreateTruncating(iy) + Half<T>()) * window.BinHeight / T.CreateTruncating(window.GridH);

    private static T SampleX<T>(in RoIWindow<T> window, int binX, int ix, T shiftX) where T : unmanaged, IFloatingPointIeee754<T> =>
        window.StartX + shiftX + T.CreateTruncating(binX) * window.BinWidth
        + (T.CreateTruncating(ix) + Half<T>()) * window.BinWidth / T.CreateTruncating(window.GridW);

    private static T Half<T>() where T : unmanaged, IFloatingPointIeee754<T> => T.One / (T.One + T.One);
}

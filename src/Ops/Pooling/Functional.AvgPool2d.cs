namespace DeformEngine;

/// <summary>Mean over sliding windows of [N, C, H, W]:
/// out[n, c, oy, ox] = (1/D) Σ over (i, j) of input[n, c, oy·sH − pH + i, ox·sW − pW + j], padding
/// reading 0. D = kH·kW when <c>countIncludePad</c> (PyTorch's default), else the number of window
/// positions inside the input. Gradient: each input position in a window gets ∂L/∂out / D.</summary>
public static partial class Functional
{
    public static Tensor<T> AvgPool2d<T>(Tensor<T> input, (int H, int W) kernelSize,
        (int H, int W)? stride = null, (int H, int W)? padding = null, bool countIncludePad = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        var geometry = PoolGeometry.Create(input, kernelSize, stride, padding);
        var windows = new PoolWindow[geometry.OutH * geometry.OutW];
        for (int oy = 0; oy < geometry.OutH; oy++)
            for (int ox = 0; ox < geometry.OutW; ox++)
            {
                long y0 = geometry.StartY(oy), x0 = geometry.StartX(ox);
                int yStart = (int)Math.Max(y0, 0), yEnd = (int)Math.Min(y0 + kernelSize.H, geometry.H);
                int xStart = (int)Math.Max(x0, 0), xEnd = (int)Math.Min(x0 + kernelSize.W, geometry.W);
                windows[oy * geometry.OutW + ox] = countIncludePad
                    ? new PoolWindow(yStart, yEnd, xStart, xEnd, kernelSize.H, kernelSize.W)
                    : new PoolWindow(yStart, yEnd, xStart, xEnd, yEnd - yStart, xEnd - xStart);
            }
        return AveragePooling.Run(input, windows, geometry.OutH, geometry.OutW, "AvgPool2d");
    }
}

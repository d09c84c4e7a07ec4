namespace DeformEngine;

/// <summary>Mean over sliding windows of [N, C, H, W]:
/// out[n, c, oy, ox] = (1/D) Σ over (i, j) of input[n, c, oy·sH − pH + i, ox·sW − pW + j], padding
/// reading 0. D = kH·kW when <c>countIncludePad</c> (PyTorch's default), else the number of window
/// positions inside the input. Gradient: each input position in a window gets ∂L/∂out / D.</summary>
public static partial class Functional
{
    /// <summary>out[n, c, oy, ox] = (1/D)·Σ_{i,j} input[n, c, oy·sH − pH + i, ox·sW − pW + j], padding reading
    /// 0.</summary>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="kernelSize">(kH, kW).</param>
    /// <param name="stride">(sH, sW); null for the kernel size.</param>
    /// <param name="padding">(pH, pW), at most half the kernel; null for (0, 0).</param>
    /// <param name="countIncludePad">D = kH·kW (true, PyTorch's default) or the number of window positions inside the
    /// input (false).</param>
    /// <returns>[N, C, OutH, OutW], OutH = ⌊(H + 2pH − kH)/sH⌋ + 1 (OutW likewise).</returns>
    /// <exception cref="ArgumentException">The input is not 4-D, or the window does not fit the padded
    /// input.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive kernel size or stride, or padding outside [0,
    /// kernel/2].</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
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

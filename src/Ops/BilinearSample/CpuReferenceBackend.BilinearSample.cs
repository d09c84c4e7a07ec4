using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>The reference <see cref="IBilinearSampleBackend"/>: one loop over points, the corners and
/// coefficients of each point computed once for all channels (<see cref="BilinearCorners{T}"/>).</summary>
public partial class CpuReferenceBackend : IBilinearSampleBackend
{
    /// <inheritdoc />
    public virtual Tensor<T> BilinearSample<T>(BilinearSampleParams parameters, Tensor<T> input, Tensor<T> coords)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w, p) = (parameters.Batch, parameters.Channels, parameters.Height, parameters.Width, parameters.Points);
        var src = input.CpuData;
        var xy = coords.CpuData;
        var result = new T[n * c * p];
        int plane = h * w;
        for (int b = 0; b < n; b++)
            for (int k = 0; k < p; k++)
            {
                var corners = new BilinearCorners<T>(xy[(b * p + k) * 2], xy[(b * p + k) * 2 + 1], h, w);
                for (int ch = 0; ch < c; ch++)
                    result[(b * c + ch) * p + k] = corners.Sample(src.AsSpan((b * c + ch) * plane, plane), w);
            }

        return Tensor<T>.Wrap(result, n, c, p);
    }

    /// <inheritdoc />
    public virtual Tensor<T>?[] BilinearSampleBackward<T>(BilinearSampleParams parameters, Tensor<T> gradOutput, Tensor<T> input,
        Tensor<T> coords, bool[] needs)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (n, c, h, w, p) = (parameters.Batch, parameters.Channels, parameters.Height, parameters.Width, parameters.Points);
        var src = input.CpuData;
        var xy = coords.CpuData;
        int plane = h * w;
        var g = gradOutput.CpuData;
        var gradInput = needs[0] ? new T[src.Length] : null;
        var gradCoords = needs[1] ? new T[xy.Length] : null;
        for (int b = 0; b < n; b++)
            for (int k = 0; k < p; k++)
            {
                var corners = new BilinearCorners<T>(xy[(b * p + k) * 2], xy[(b * p + k) * 2 + 1], h, w);
                // NOTE: the edges y = −1, x = −1 sampled 0 but keep torchvision's slope from the inside.
                if (!corners.HasSlope) continue;
                T dy = T.Zero, dx = T.Zero;
                for (int ch = 0; ch < c; ch++)
                {
                    T upstream = g[(b * c + ch) * p + k];
                    if (gradInput is not null)
                        corners.Scatter(gradInput.AsSpan((b * c + ch) * plane, plane), w, upstream);
                    if (gradCoords is not null)
                    {
                        var (cy, cx) = corners.Gradient(src.AsSpan((b * c + ch) * plane, plane), w);
                        dy += upstream * cy;
                        dx += upstream * cx;
                    }
                }
                if (gradCoords is not null)
                {
                    gradCoords[(b * p + k) * 2] = dy;
                    gradCoords[(b * p + k) * 2 + 1] = dx;
                }
            }
        return [
            gradInput is null ? null : Tensor<T>.Wrap(gradInput, input.ShapeArray),
            gradCoords is null ? null : Tensor<T>.Wrap(gradCoords, coords.ShapeArray)];
    }
}

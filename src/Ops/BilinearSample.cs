using DeformEngine.Kernels;

namespace DeformEngine;

/// <summary>Bilinear sampling of [N, C, H, W] at floating points [N, P, 2] given as (y, x):
/// out[n, c, p] = Σ_q g_q(p) · input[n, c, q] over the four corners q of p, with g_lt = (1−ly)(1−lx),
/// g_rt = (1−ly)lx, g_lb = ly(1−lx), g_rb = ly·lx. A point outside (−1, H) × (−1, W) reads 0.
/// Gradients: ∂L/∂input[q] += g_q · ∂L/∂out; ∂L/∂y = Σ_c ∂L/∂out · Σ_q (∂g_q/∂y) v_q (x likewise),
/// taken on [−1, H) × [−1, W) as torchvision does (on the edge −1 the slope from the inside).</summary>
public static partial class Functional
{
    public static Tensor<T> BilinearSample<T>(Tensor<T> input, Tensor<T> coords)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(coords);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, C, H, W]");
        ShapeMath.RequireRank(nameof(coords), coords.ShapeSpan, 3, "[N, P, 2] of (y, x)");
        RequireSameDevice(nameof(coords), input, coords);
        int n = input.ShapeArray[0], c = input.ShapeArray[1], h = input.ShapeArray[2], w = input.ShapeArray[3];
        int p = coords.ShapeArray[1];
        ShapeMath.RequireShape(nameof(coords), coords.ShapeSpan, [n, p, 2]);
        OpArgs.ElementCount(nameof(coords), "the output [N, C, P]", n, c, p);
        if (!input.Device.IsCpu) return BilinearSampleOnDevice(input, coords, new BilinearSampleShape(n, c, h, w, p));

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

        var output = Tensor<T>.Wrap(result, n, c, p);
        return Autograd.Record(output, "BilinearSample", (grad, needs) =>
        {
            var g = grad.CpuData;
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
        }, input, coords);
    }

    /// <summary>Operators run where their inputs are; mixing devices is an error.</summary>
    internal static void RequireSameDevice<T>(string argumentName, Tensor<T> reference, Tensor<T>? other)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (other is not null && !ReferenceEquals(other.Device, reference.Device))
            throw new ArgumentException(
                $"{argumentName}: expected a tensor on '{reference.Device.Name}' like input, got one on '{other.Device.Name}'.", argumentName);
    }
}

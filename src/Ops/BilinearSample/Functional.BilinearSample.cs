namespace DeformEngine;

/// <summary>Bilinear sampling of [N, C, H, W] at floating points [N, P, 2] given as (y, x):
/// out[n, c, p] = Σ_q g_q(p) · input[n, c, q] over the four corners q of p, with g_lt = (1−ly)(1−lx),
/// g_rt = (1−ly)lx, g_lb = ly(1−lx), g_rb = ly·lx. A point outside (−1, H) × (−1, W) reads 0.
/// Gradients: ∂L/∂input[q] += g_q · ∂L/∂out; ∂L/∂y = Σ_c ∂L/∂out · Σ_q (∂g_q/∂y) v_q (x likewise),
/// taken on [−1, H) × [−1, W) as torchvision does (on the edge −1 the slope from the inside).</summary>
public static partial class Functional
{
    /// <summary>out[n, c, p] = Σ_q g_q(p)·input[n, c, q] over the four pixel corners q of each point p (0 outside (−1,
    /// H) × (−1, W)).</summary>
    /// <param name="input">[N, C, H, W].</param>
    /// <param name="coords">[N, P, 2] points as (y, x) in pixel units, differentiable.</param>
    /// <returns>[N, C, P].</returns>
    /// <exception cref="ArgumentException">A rank or shape does not fit, or the tensors live on different
    /// devices.</exception>
    /// <exception cref="NotSupportedException">The input's device does not implement the operator.</exception>
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
        var parameters = new BilinearSampleParams(n, c, h, w, p);
        var backend = OperatorBackends.For<IBilinearSampleBackend>(input.Device, "BilinearSample");
        var output = backend.BilinearSample(parameters, input, coords);
        return Autograd.Record(output, "BilinearSample", (grad, needs) =>
            backend.BilinearSampleBackward(parameters, grad, input, coords, needs), input, coords);
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

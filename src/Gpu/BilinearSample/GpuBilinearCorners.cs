using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// The device side of <c>Ops/Sampling/Bilinear.cs</c>'s <c>BilinearCorners&lt;T&gt;</c>, shared by the kernels of
/// BilinearSample and DeformConv2d and following it operation for operation, so both paths round alike: the border
/// rule (a point outside (−1, H) × (−1, W), NaN included, reads 0; the slope is taken on [−1, H) × [−1, W),
/// torchvision's edge rule), corner values (0 outside the plane), the sample,
/// its derivatives in y and x, and the scatter of a gradient to the corners, by float atomics (fast) or by 64-bit
/// fixed-point atomics (deterministic: integer addition is associative). A plane is the H×W block of a view that
/// starts at a given index.
/// </summary>
internal struct GpuBilinearCorners<T, R>
    where T : unmanaged, IFloatingPointIeee754<T>
    where R : struct, IDeviceReal<T>
{
    /// <summary>Whether the point is finite and inside (−1, H) × (−1, W): the sample, input and mask gradients are 0 elsewhere.</summary>
    public bool Inside;
    /// <summary>Whether the point is finite and inside [−1, H) × [−1, W): where the coordinate gradient is taken.</summary>
    public bool HasSlope;
    public int Top, Left;
    public bool TopIn, BottomIn, LeftIn, RightIn;
    public T Ly, Lx;

    public static GpuBilinearCorners<T, R> At(T y, T x, int height, int width)
    {
        var c = default(GpuBilinearCorners<T, R>);
        // NOTE: a positive test, so NaN and infinite coordinates fall outside.
        c.Inside = y > -T.One && y < R.FromInt(height) && x > -T.One && x < R.FromInt(width);
        // NOTE: on the edges y = −1, x = −1 the sample is 0 but torchvision takes the slope from the inside (its
        // coordinate weight has no border test of its own): the corners are kept there.
        c.HasSlope = y >= -T.One && y < R.FromInt(height) && x >= -T.One && x < R.FromInt(width);
        if (!c.HasSlope) return c;
        // NOTE: the integer corner indices carry no gradient; only ly and lx do.
        T top = R.Floor(y), left = R.Floor(x);
        c.Top = R.ToInt(top);
        c.Left = R.ToInt(left);
        c.Ly = y - top;
        c.Lx = x - left;
        c.TopIn = c.Top >= 0;
        c.BottomIn = c.Top + 1 <= height - 1;
        c.LeftIn = c.Left >= 0;
        c.RightIn = c.Left + 1 <= width - 1;
        return c;
    }

    public readonly T Glt => (T.One - Ly) * (T.One - Lx);

    public readonly T Grt => (T.One - Ly) * Lx;

    public readonly T Glb => Ly * (T.One - Lx);

    public readonly T Grb => Ly * Lx;

    /// <summary>The values at left-top, right-top, left-bottom, right-bottom (0 for a corner outside the plane).</summary>
    public readonly void Values(ArrayView<T> data, long plane, int width, out T lt, out T rt, out T lb, out T rb)
    {
        long row = plane + (long)Top * width, next = row + width;
        lt = TopIn && LeftIn ? data[row + Left] : T.Zero;
        rt = TopIn && RightIn ? data[row + Left + 1] : T.Zero;
        lb = BottomIn && LeftIn ? data[next + Left] : T.Zero;
        rb = BottomIn && RightIn ? data[next + Left + 1] : T.Zero;
    }

    public readonly T Sample(T lt, T rt, T lb, T rb) => Glt * lt + Grt * rt + Glb * lb + Grb * rb;

    /// <summary>∂sample/∂y and ∂sample/∂x through the coefficients' ly and lx.</summary>
    public readonly void Gradient(T lt, T rt, T lb, T rb, out T dy, out T dx)
    {
        dy = (T.One - Lx) * (lb - lt) + Lx * (rb - rt);
        dx = (T.One - Ly) * (rt - lt) + Ly * (rb - lb);
    }

    /// <summary>Adds g_q·value to each corner inside the plane: into grad[plane + q] by float atomics (mode
    /// <see cref="ScatterMode.Atomic"/>), or (long)(g_q·value·scale) into cells[cellPlane + q] (<see cref="ScatterMode.Fixed"/>).</summary>
    public readonly void Scatter(ArrayView<T> grad, long plane, ArrayView<long> cells, long cellPlane, int width, T value, int mode, T scale)
    {
        long row = (long)Top * width, next = row + width;
        if (TopIn && LeftIn) GpuScatter<T, R>.Add(grad, plane + row + Left, cells, cellPlane + row + Left, Glt * value, mode, scale);
        if (TopIn && RightIn) GpuScatter<T, R>.Add(grad, plane + row + Left + 1, cells, cellPlane + row + Left + 1, Grt * value, mode, scale);
        if (BottomIn && LeftIn) GpuScatter<T, R>.Add(grad, plane + next + Left, cells, cellPlane + next + Left, Glb * value, mode, scale);
        if (BottomIn && RightIn) GpuScatter<T, R>.Add(grad, plane + next + Left + 1, cells, cellPlane + next + Left + 1, Grb * value, mode, scale);
    }
}

/// <summary>One scattered contribution, fast or deterministic (see GpuDevice.Scatter.cs).</summary>
internal static class GpuScatter<T, R>
    where T : unmanaged, IFloatingPointIeee754<T>
    where R : struct, IDeviceReal<T>
{
    public static void Add(ArrayView<T> grad, long index, ArrayView<long> cells, long cell, T value, int mode, T scale)
    {
        if (mode == (int)ScatterMode.Atomic) R.AtomicAdd(ref grad[index], value);
        else Atomic.Add(ref cells[cell], R.ToLong(value * scale));
    }
}

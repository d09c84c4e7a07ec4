using ILGPU;

namespace DeformEngine.Gpu.Kernels;

/// <summary>
/// The device side of <c>Ops/RoIPooling/RoIBilinear.cs</c>: the clamped bilinear sample of the RoI references (a
/// point within a margin of the plane is clamped to it, one beyond reads 0; margin 1 for torchvision and mmcv, ½ for
/// MXNet), its coordinate derivatives and its adjoint. It follows the CPU code operation for operation, so both
/// paths round alike.
/// </summary>
internal struct GpuRoICorners<T, R>
    where T : unmanaged, IFloatingPointIeee754<T>
    where R : struct, IDeviceReal<T>
{
    public bool Inside, YClamped, XClamped;
    public int Top, Bottom, Left, Right;
    public T Ly, Lx;

    public static GpuRoICorners<T, R> At(T y, T x, int height, int width, T margin)
    {
        var c = default(GpuRoICorners<T, R>);
        T lastRow = R.FromInt(height - 1), lastColumn = R.FromInt(width - 1);
        // NOTE: a positive test, so NaN coordinates (possible through offsets) fall outside.
        c.Inside = y >= -margin && y <= lastRow + margin && x >= -margin && x <= lastColumn + margin;
        if (!c.Inside) return c;
        // NOTE: in the clamped band the sample is constant in that coordinate; its derivative there is 0.
        c.YClamped = y <= T.Zero || y >= lastRow;
        c.XClamped = x <= T.Zero || x >= lastColumn;
        T cy = y < T.Zero ? T.Zero : y > lastRow ? lastRow : y;
        T cx = x < T.Zero ? T.Zero : x > lastColumn ? lastColumn : x;
        c.Top = R.ToInt(cy);
        c.Left = R.ToInt(cx);
        c.Bottom = c.Top + 1 < height - 1 ? c.Top + 1 : height - 1;
        c.Right = c.Left + 1 < width - 1 ? c.Left + 1 : width - 1;
        c.Ly = cy - R.FromInt(c.Top);
        c.Lx = cx - R.FromInt(c.Left);
        return c;
    }

    public readonly T Sample(ArrayView<T> data, long plane, int width)
    {
        if (!Inside) return T.Zero;
        T glt = (T.One - Ly) * (T.One - Lx), grt = (T.One - Ly) * Lx, glb = Ly * (T.One - Lx), grb = Ly * Lx;
        return glt * data[plane + (long)Top * width + Left] + grt * data[plane + (long)Top * width + Right]
            + glb * data[plane + (long)Bottom * width + Left] + grb * data[plane + (long)Bottom * width + Right];
    }

    /// <summary>∂sample/∂y and ∂sample/∂x, each 0 where that coordinate is clamped.</summary>
    public readonly void Gradient(ArrayView<T> data, long plane, int width, out T dy, out T dx)
    {
        dy = T.Zero;
        dx = T.Zero;
        if (!Inside) return;
        T lt = data[plane + (long)Top * width + Left], rt = data[plane + (long)Top * width + Right];
        T lb = data[plane + (long)Bottom * width + Left], rb = data[plane + (long)Bottom * width + Right];
        if (!YClamped) dy = (T.One - Lx) * (lb - lt) + Lx * (rb - rt);
        if (!XClamped) dx = (T.One - Ly) * (rt - lt) + Ly * (rb - lb);
    }

    /// <summary>The adjoint of <see cref="Sample"/>; corners that coincide at a clamped edge each receive their share.</summary>
    public readonly void Scatter(ArrayView<T> grad, ArrayView<long> cells, long plane, int width, T value, int mode, T scale)
    {
        if (!Inside) return;
        T glt = (T.One - Ly) * (T.One - Lx), grt = (T.One - Ly) * Lx, glb = Ly * (T.One - Lx), grb = Ly * Lx;
        long top = plane + (long)Top * width, bottom = plane + (long)Bottom * width;
        GpuScatter<T, R>.Add(grad, top + Left, cells, top + Left, glt * value, mode, scale);
        GpuScatter<T, R>.Add(grad, top + Right, cells, top + Right, grt * value, mode, scale);
        GpuScatter<T, R>.Add(grad, bottom + Left, cells, bottom + Left, glb * value, mode, scale);
        GpuScatter<T, R>.Add(grad, bottom + Right, cells, bottom + Right, grb * value, mode, scale);
    }
}

/// <summary>
/// One RoI of the window table the host builds from <c>RoIChecks.AlignWindows</c> (<see cref="Columns"/> values per
/// RoI, in feature-map pixels): batch, start y, start x, height, width, bin height, bin width, grid h, grid w; and the
/// bin average of the RoI Align family with its adjoint and its shift derivative (<c>Ops/RoIPooling/RoIAlignSampler.cs</c>).
/// </summary>
internal struct GpuRoIWindow<T, R>
    where T : unmanaged, IFloatingPointIeee754<T>
    where R : struct, IDeviceReal<T>
{
    public const int Columns = 9;

    public int Batch, GridH, GridW;
    public T StartY, StartX, Height, Width, BinH, BinW;

    public static GpuRoIWindow<T, R> Load(ArrayView<T> table, long roi)
    {
        long row = roi * Columns;
        return new GpuRoIWindow<T, R>
        {
            Batch = R.ToInt(table[row]),
            StartY = table[row + 1],
            StartX = table[row + 2],
            Height = table[row + 3],
            Width = table[row + 4],
            BinH = table[row + 5],
            BinW = table[row + 6],
            GridH = R.ToInt(table[row + 7]),
            GridW = R.ToInt(table[row + 8]),
        };
    }

    /// <summary>max(GridH·GridW, 1): an empty grid averages to 0.</summary>
    public readonly T Count => R.FromInt(GridH * GridW > 1 ? GridH * GridW : 1);

    public readonly T SampleY(int binY, int iy, T shiftY) =>
        StartY + shiftY + R.FromInt(binY) * BinH + (R.FromInt(iy) + Half) * BinH / R.FromInt(GridH);

    public readonly T SampleX(int binX, int ix, T shiftX) =>
        StartX + shiftX + R.FromInt(binX) * BinW + (R.FromInt(ix) + Half) * BinW / R.FromInt(GridW);

    /// <summary>The mean of the bin's samples, with torchvision's border rule (margin 1).</summary>
    public readonly T Average(ArrayView<T> data, long plane, int height, int width, int binY, int binX, T shiftY, T shiftX)
    {
        T sum = T.Zero;
        for (int iy = 0; iy < GridH; iy++)
        {
            T y = SampleY(binY, iy, shiftY);
            for (int ix = 0; ix < GridW; ix++)
                sum += GpuRoICorners<T, R>.At(y, SampleX(binX, ix, shiftX), height, width, T.One).Sample(data, plane, width);
        }
        return sum / Count;
    }

    /// <summary>The adjoint of <see cref="Average"/>: upstream / count · g_q to each corner of each sample.</summary>
    public readonly void ScatterAverage(ArrayView<T> grad, ArrayView<long> cells, long plane, int height, int width, int binY, int binX,
        T shiftY, T shiftX, T upstream, int mode, T scale)
    {
        T perSample = upstream / Count;
        for (int iy = 0; iy < GridH; iy++)
        {
            T y = SampleY(binY, iy, shiftY);
            for (int ix = 0; ix < GridW; ix++)
                GpuRoICorners<T, R>.At(y, SampleX(binX, ix, shiftX), height, width, T.One).Scatter(grad, cells, plane, width, perSample, mode, scale);
        }
    }

    /// <summary>∂Average/∂shiftY and ∂/∂shiftX: the means of the samples' coordinate derivatives.</summary>
    public readonly void ShiftGradient(ArrayView<T> data, long plane, int height, int width, int binY, int binX, T shiftY, T shiftX,
        out T dy, out T dx)
    {
        T sumY = T.Zero, sumX = T.Zero;
        for (int iy = 0; iy < GridH; iy++)
        {
            T y = SampleY(binY, iy, shiftY);
            for (int ix = 0; ix < GridW; ix++)
            {
                GpuRoICorners<T, R>.At(y, SampleX(binX, ix, shiftX), height, width, T.One).Gradient(data, plane, width, out T sy, out T sx);
                sumY += sy;
                sumX += sx;
            }
        }
        dy = sumY / Count;
        dx = sumX / Count;
    }

    private static T Half => T.One / (T.One + T.One);
}

using DeformEngine.Kernels;

namespace DeformEngine.Explain;

/// <summary>A grayscale picture for the plots: <see cref="Pixels"/> row-major, any range (the
/// plots stretch min..max to black..white).</summary>
public sealed record GrayImage(int Height, int Width, double[] Pixels)
{
    /// <summary>Plane (<paramref name="n"/>, <paramref name="channel"/>) of a CPU tensor [N, C, H, W], converted to
    /// double.</summary>
    /// <exception cref="ArgumentException">The image is not 4-D.</exception>
    public static GrayImage From<T>(Tensor<T> image, int n = 0, int channel = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(image);
        ShapeMath.RequireRank(nameof(image), image.ShapeSpan, 4, "[N, C, H, W]");
        int h = image.Dim(2), w = image.Dim(3);
        var pixels = image.CpuData.AsSpan(((n * image.Dim(1)) + channel) * h * w, h * w).ToArray()
            .Select(v => double.CreateChecked(v)).ToArray();
        return new GrayImage(h, w, pixels);
    }

    /// <summary>The pixel at (<paramref name="row"/>, <paramref name="column"/>).</summary>
    public double this[int row, int column] => Pixels[row * Width + column];
}

/// <summary>Where one deformable layer samples, for one image and offset group: the geometry and
/// that image's offsets [2·G·kh·kw, OutH, OutW].</summary>
public sealed record SamplingLayer(DeformConv2dParams Geometry, double[] Offset, int OffsetGroup = 0)
{
    /// <summary>The geometry and image <paramref name="n"/>'s offsets of a deformable convolution call, for offset
    /// group <paramref name="offsetGroup"/>.</summary>
    /// <exception cref="ArgumentException">The call's arguments do not fit together (as the engine checks
    /// them).</exception>
    public static SamplingLayer From<T>(DeformConvCall<T> call, int n = 0, int offsetGroup = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var dp = call.Params();
        int size = 2 * dp.OffsetGroups * dp.KernelPoints * dp.Conv.ColumnCols;
        return new SamplingLayer(dp, call.Offset.CpuData.AsSpan(n * size, size).ToArray().Select(v => double.CreateChecked(v)).ToArray(),
            offsetGroup);
    }

    /// <summary>False for a <see cref="Window"/> or <see cref="Pooling"/> step: it maps coordinates
    /// between the deformable layers around it but has no samples of its own to draw.</summary>
    public bool DrawsSamples { get; init; } = true;

    /// <summary>A step without samples of its own between (or below) deformable layers: a plain
    /// convolution or a pooling window over an H×W input, with its kernel, stride, padding and
    /// dilation. It places an output unit at the centre of its window, as a layer's regular window is
    /// placed, so that a stack such as conv → max pool → DCN → max pool → DCN maps to image
    /// coordinates.</summary>
    public static SamplingLayer Window(int inputHeight, int inputWidth, (int H, int W) kernel, (int H, int W) stride,
        (int H, int W) padding = default, (int H, int W)? dilation = null)
    {
        var d = dilation ?? (1, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel.H, nameof(kernel));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel.W, nameof(kernel));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride.H, nameof(stride));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride.W, nameof(stride));
        ArgumentOutOfRangeException.ThrowIfNegative(padding.H, nameof(padding));
        ArgumentOutOfRangeException.ThrowIfNegative(padding.W, nameof(padding));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(d.H, nameof(dilation));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(d.W, nameof(dilation));
        int spanH = d.H * (kernel.H - 1) + 1, spanW = d.W * (kernel.W - 1) + 1;
        if (inputHeight + 2 * padding.H < spanH || inputWidth + 2 * padding.W < spanW)
            throw new ArgumentException(
                $"inputHeight, inputWidth: expected at least the window ({spanH}×{spanW} less twice the padding {padding.H}×{padding.W}), " +
                $"got {inputHeight}×{inputWidth}.", nameof(inputHeight));
        var conv = new Conv2dParams(1, 1, inputHeight, inputWidth, 1, kernel.H, kernel.W, stride, padding, d, 1);
        return new SamplingLayer(new DeformConv2dParams(conv, 1, false), new double[2 * kernel.H * kernel.W * conv.ColumnCols])
        {
            DrawsSamples = false,
        };
    }

    /// <summary>A pooling step (max or average): a kernel × kernel <see cref="Window"/> with this
    /// stride and no padding, whose every cell can decide the output (<see cref="IsPooling"/>).</summary>
    public static SamplingLayer Pooling(int inputHeight, int inputWidth, int kernel, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        return Window(inputHeight, inputWidth, (kernel, kernel), (stride, stride)) with { IsPooling = true };
    }

    /// <summary>True for a <see cref="Pooling"/> step: a unit is followed to every cell of its window
    /// (a max pool takes any of them, depending on the data and the channel), where a plain
    /// convolution's unit is followed to the central cell only.</summary>
    public bool IsPooling { get; init; }

    /// <summary>The same layer with every offset 0: a regular convolution's grid.</summary>
    public SamplingLayer Regular() => this with { Offset = new double[Offset.Length] };

    /// <summary>The kh·kw sampling positions of output (y, x), in this layer's input coordinates.</summary>
    public (double Y, double X)[] Positions(int y, int x)
    {
        var cp = Geometry.Conv;
        var result = new (double, double)[Geometry.KernelPoints];
        for (int i = 0; i < cp.KernelH; i++)
            for (int j = 0; j < cp.KernelW; j++)
                result[i * cp.KernelW + j] = DeformConv2dReferenceKernels.SamplingPoint<double>(Geometry, Offset, OffsetGroup, i, j, y, x);
        return result;
    }

    /// <summary>Output coordinates (fractional allowed) to the input position at the centre of
    /// that unit's regular window: y·stride − pad + dilation·(kh − 1)/2 (x likewise).</summary>
    public (double Y, double X) OutputToInput(double y, double x)
    {
        var cp = Geometry.Conv;
        return (y * cp.Stride.H - cp.Padding.H + (cp.KernelH - 1) * cp.Dilation.H / 2.0,
                x * cp.Stride.W - cp.Padding.W + (cp.KernelW - 1) * cp.Dilation.W / 2.0);
    }

    /// <summary>The output unit nearest to input position (y, x): the unit whose window is centred
    /// there, clamped into the output.</summary>
    public (int Y, int X) NearestUnit(double y, double x)
    {
        var cp = Geometry.Conv;
        double centerY = (cp.KernelH - 1) * cp.Dilation.H / 2.0 - cp.Padding.H;
        double centerX = (cp.KernelW - 1) * cp.Dilation.W / 2.0 - cp.Padding.W;
        int uy = (int)Math.Round((y - centerY) / cp.Stride.H), ux = (int)Math.Round((x - centerX) / cp.Stride.W);
        return (Math.Clamp(uy, 0, cp.OutH - 1), Math.Clamp(ux, 0, cp.OutW - 1));
    }

    /// <summary>The input cells a step without samples (<see cref="DrawsSamples"/> false) passes
    /// output unit (y, x) on to: for a <see cref="Pooling"/> step every cell of its window inside the
    /// input, otherwise the cell at the centre of the regular window (the upper-left of the central
    /// cells when the window has an even size), clamped into the input.</summary>
    public IEnumerable<(int Y, int X)> FollowedCells(int y, int x)
    {
        var cp = Geometry.Conv;
        int top = y * cp.Stride.H - cp.Padding.H, left = x * cp.Stride.W - cp.Padding.W;
        if (!IsPooling)
        {
            yield return (Math.Clamp(top + (cp.KernelH - 1) / 2 * cp.Dilation.H, 0, cp.Height - 1),
                          Math.Clamp(left + (cp.KernelW - 1) / 2 * cp.Dilation.W, 0, cp.Width - 1));
            yield break;
        }
        for (int i = 0; i < cp.KernelH; i++)
            for (int j = 0; j < cp.KernelW; j++)
            {
                int cy = top + i * cp.Dilation.H, cx = left + j * cp.Dilation.W;
                if ((uint)cy < (uint)cp.Height && (uint)cx < (uint)cp.Width) yield return (cy, cx);
            }
    }
}

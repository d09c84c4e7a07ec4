using DeformEngine.Kernels;

namespace DeformEngine.Explain;

/// <summary>A grayscale picture for the plots: <see cref="Pixels"/> row-major, any range (the
/// plots stretch min..max to black..white).</summary>
public sealed record GrayImage(int Height, int Width, double[] Pixels)
{
    public static GrayImage From<T>(Tensor<T> image, int n = 0, int channel = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(image);
        ShapeMath.RequireRank(nameof(image), image.ShapeSpan, 4, "[N, C, H, W]");
        int h = image.Dim(2), w = image.Dim(3);
        var pixels = image.CpuData.AsSpan(((n * image.Dim(1)) + channel) * h * w, h * w).ToArray()
            .Select(v => double.CreateChecked(v)).ToArray();
        return new GrayImage(h, w, pixels);
    }

    public double this[int row, int column] => Pixels[row * Width + column];
}

/// <summary>Where one deformable layer samples, for one image and offset group: the geometry and
/// that image's offsets [2·G·kh·kw, OutH, OutW].</summary>
public sealed record SamplingLayer(DeformConv2dParams Geometry, double[] Offset, int OffsetGroup = 0)
{
    public static SamplingLayer From<T>(DeformConvCall<T> call, int n = 0, int offsetGroup = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(call);
        var dp = call.Params();
        int size = 2 * dp.OffsetGroups * dp.KernelPoints * dp.Conv.ColumnCols;
        return new SamplingLayer(dp, call.Offset.CpuData.AsSpan(n * size, size).ToArray().Select(v => double.CreateChecked(v)).ToArray(),
            offsetGroup);
    }

    /// <summary>False for a <see cref="Pooling"/> step: it maps coordinates between the deformable
    /// layers around it but has no samples of its own to draw.</summary>
    public bool DrawsSamples { get; init; } = true;

    /// <summary>A pooling step (max or average) between deformable layers: a kernel × kernel window
    /// with this stride and no padding over an H×W input. It places an output unit at the centre of
    /// its window, as a layer's regular window is placed, so a stack such as DCN → 2×2 max pool → DCN
    /// maps to image coordinates.</summary>
    public static SamplingLayer Pooling(int inputHeight, int inputWidth, int kernel, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernel);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        if (inputHeight < kernel || inputWidth < kernel)
            throw new ArgumentException($"inputHeight, inputWidth: expected at least the kernel ({kernel}), got {inputHeight}×{inputWidth}.", nameof(inputHeight));
        var conv = new Conv2dParams(1, 1, inputHeight, inputWidth, 1, kernel, kernel, (stride, stride), (0, 0), (1, 1), 1);
        return new SamplingLayer(new DeformConv2dParams(conv, 1, false), new double[2 * kernel * kernel * conv.ColumnCols])
        {
            DrawsSamples = false,
        };
    }

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
    /// there, clamped into the output. Used to follow a sample down to the layer below.</summary>
    public (int Y, int X) NearestUnit(double y, double x)
    {
        var cp = Geometry.Conv;
        double centerY = (cp.KernelH - 1) * cp.Dilation.H / 2.0 - cp.Padding.H;
        double centerX = (cp.KernelW - 1) * cp.Dilation.W / 2.0 - cp.Padding.W;
        int uy = (int)Math.Round((y - centerY) / cp.Stride.H), ux = (int)Math.Round((x - centerX) / cp.Stride.W);
        return (Math.Clamp(uy, 0, cp.OutH - 1), Math.Clamp(ux, 0, cp.OutW - 1));
    }
}

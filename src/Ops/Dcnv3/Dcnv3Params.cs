namespace DeformEngine;

/// <summary>Geometry of a DCNv3 / DCNv4 call over a channels-last input [N, H, W, G·Cg]:
/// OutH = ⌊(H + 2·padH − (dilH·(kh − 1) + 1)) / strideH⌋ + 1 (OutW likewise), and
/// <see cref="Points"/> = kh·kw sampling points per output position and group, less the centre with
/// <see cref="RemoveCenter"/>. Point p walks the kernel column-major as the published kernels do:
/// kernel column i (x) outer, kernel row j (y) inner (<see cref="KernelColumn"/>, <see cref="KernelRow"/>).</summary>
public sealed record Dcnv3Params(
    int Batch, int Height, int Width, int Group, int GroupChannels, (int H, int W) Kernel,
    (int H, int W) Stride, (int H, int W) Padding, (int H, int W) Dilation, double OffsetScale, bool RemoveCenter)
{
    /// <summary>Output height ⌊(Height + 2·Padding.H − (Dilation.H·(kh − 1) + 1)) / Stride.H⌋ + 1, 0 when the window
    /// does not fit.</summary>
    public int OutH { get; } = OutSize(Height, Kernel.H, Stride.H, Padding.H, Dilation.H);
    /// <summary>Output width ⌊(Width + 2·Padding.W − (Dilation.W·(kw − 1) + 1)) / Stride.W⌋ + 1, 0 when the window does
    /// not fit.</summary>
    public int OutW { get; } = OutSize(Width, Kernel.W, Stride.W, Padding.W, Dilation.W);

    // A window that does not fit gives 0 (Python's floor division), not C#'s truncation towards 1.
    private static int OutSize(int size, int kernel, int stride, int padding, int dilation)
    {
        int span = size + 2 * padding - (dilation * (kernel - 1) + 1);
        return span < 0 ? 0 : span / stride + 1;
    }

    /// <summary>Channels of the input and output: G·Cg.</summary>
    public int Channels => Group * GroupChannels;

    /// <summary>Sampling points per output position and group: kh·kw, less one with
    /// <see cref="RemoveCenter"/>.</summary>
    public int Points => Kernel.H * Kernel.W - (RemoveCenter ? 1 : 0);

    /// <summary>Output positions per image.</summary>
    public int Positions => OutH * OutW;

    /// <summary>(dilW·(kw − 1)) / 2 and (dilH·(kh − 1)) / 2, rounded down: how far the kernel's first
    /// point lies left of (above) the window's centre before scaling.</summary>
    public int HalfW => Dilation.W * (Kernel.W - 1) / 2;

    /// <summary>(dilH·(kh − 1)) / 2 rounded down: how far the kernel's first point lies above the window's centre
    /// before scaling.</summary>
    public int HalfH => Dilation.H * (Kernel.H - 1) / 2;

    /// <summary>The kernel column i of point <paramref name="point"/>.</summary>
    public int KernelColumn(int point) => KernelIndex(point) / Kernel.H;

    /// <summary>The kernel row j of point <paramref name="point"/>.</summary>
    public int KernelRow(int point) => KernelIndex(point) % Kernel.H;

    /// <summary>i·kh + j of point <paramref name="point"/>: the points in order with the centre skipped.</summary>
    private int KernelIndex(int point) => RemoveCenter && point >= (Kernel.H * Kernel.W - 1) / 2 ? point + 1 : point;

    /// <summary>Where point (i, j) of output (oy, ox) samples, in input pixels:
    /// x = ox·strideW − padW + halfW + (i·dilW − halfW + Δx)·offsetScale (y likewise with j).</summary>
    public (T X, T Y) Location<T>(int oy, int ox, int point, T dx, T dy) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T scale = T.CreateChecked(OffsetScale);
        int i = KernelColumn(point), j = KernelRow(point);
        T x = T.CreateTruncating(ox * Stride.W - Padding.W + HalfW) + (T.CreateTruncating(i * Dilation.W - HalfW) + dx) * scale;
        T y = T.CreateTruncating(oy * Stride.H - Padding.H + HalfH) + (T.CreateTruncating(j * Dilation.H - HalfH) + dy) * scale;
        return (x, y);
    }

    /// <summary>Checks every argument of <see cref="Functional.Dcnv3{T}"/> before any work.</summary>
    internal static Dcnv3Params Create<T>(Tensor<T> input, Tensor<T> offset, Tensor<T> mask, (int H, int W) kernelSize, (int H, int W)? stride,
        (int H, int W)? padding, (int H, int W)? dilation, int group, int? groupChannels, double offsetScale, bool removeCenter)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(offset);
        ArgumentNullException.ThrowIfNull(mask);
        var parameters = Create(input, kernelSize, stride, padding, dilation, group, groupChannels, offsetScale, removeCenter);
        RequireField(nameof(offset), offset, parameters, 2, "(Δx, Δy)");
        RequireField(nameof(mask), mask, parameters, 1, "mask");
        Functional.RequireSameDevice(nameof(offset), input, offset);
        Functional.RequireSameDevice(nameof(mask), input, mask);
        return parameters;
    }

    private static void RequireField<T>(string argumentName, Tensor<T> field, Dcnv3Params parameters, int perPoint, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int[] expected = [parameters.Batch, parameters.OutH, parameters.OutW, parameters.Group * parameters.Points * perPoint];
        if (!field.ShapeSpan.SequenceEqual(expected))
            throw new ArgumentException(
                $"{argumentName}: expected shape {ShapeMath.Format(expected)} ([N, OutH, OutW, group·points{(perPoint == 2 ? "·2" : "")}] with group " +
                $"{parameters.Group}, {parameters.Points} points of {what}), got {ShapeMath.Format(field.ShapeSpan)}.", argumentName);
    }

    /// <summary>Checks the input and hyper-parameters shared by DCNv3 and DCNv4 and returns the geometry.</summary>
    internal static Dcnv3Params Create<T>(Tensor<T> input, (int H, int W) kernelSize, (int H, int W)? stride,
        (int H, int W)? padding, (int H, int W)? dilation, int group, int? groupChannels, double offsetScale, bool removeCenter)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(input);
        ShapeMath.RequireRank(nameof(input), input.ShapeSpan, 4, "[N, H, W, group·groupChannels] (channels last)");
        var s = stride ?? (1, 1);
        var p = padding ?? (0, 0);
        var d = dilation ?? (1, 1);
        if (kernelSize.H < 1 || kernelSize.W < 1)
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, $"kernelSize: expected positive sizes, got ({kernelSize.H}, {kernelSize.W}).");
        if (s.H < 1 || s.W < 1)
            throw new ArgumentOutOfRangeException(nameof(stride), s, $"stride: expected positive values, got ({s.H}, {s.W}).");
        if (p.H < 0 || p.W < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), p, $"padding: expected non-negative values, got ({p.H}, {p.W}).");
        if (d.H < 1 || d.W < 1)
            throw new ArgumentOutOfRangeException(nameof(dilation), d, $"dilation: expected positive values, got ({d.H}, {d.W}).");
        if (group < 1)
            throw new ArgumentOutOfRangeException(nameof(group), group, $"group: expected a positive number of groups, got {group}.");
        if (!double.IsFinite(offsetScale))
            throw new ArgumentOutOfRangeException(nameof(offsetScale), offsetScale, $"offsetScale: expected a finite value, got {offsetScale}.");
        if (removeCenter && (kernelSize.H != kernelSize.W || kernelSize.H % 2 == 0))
            throw new ArgumentException(
                $"removeCenter: only a square kernel of odd size has a centre to remove, got kernelSize ({kernelSize.H}, {kernelSize.W}).", nameof(removeCenter));
        if (removeCenter && kernelSize.H == 1)
            throw new ArgumentException("removeCenter: a 1×1 kernel would keep no sampling point.", nameof(removeCenter));

        var x = input.ShapeArray;
        if (x[0] < 1 || x[1] < 1 || x[2] < 1 || x[3] < 1)
            throw new ArgumentException($"input: expected positive sizes [N, H, W, C], got {ShapeMath.Format(x)}.", nameof(input));
        int channelsPerGroup = groupChannels ?? (x[3] % group == 0 ? x[3] / group : -1);
        if (groupChannels is { } given && given < 1)
            throw new ArgumentOutOfRangeException(nameof(groupChannels), given, $"groupChannels: expected a positive number, got {given}.");
        if (channelsPerGroup < 1 || group * channelsPerGroup != x[3])
            throw new ArgumentException(
                $"input: expected {(groupChannels is null ? $"channels divisible by group ({group})" : $"group·groupChannels = {group}·{groupChannels} = {group * groupChannels} channels")}, got shape {ShapeMath.Format(x)}.",
                nameof(input));
        var result = new Dcnv3Params(x[0], x[1], x[2], group, channelsPerGroup, kernelSize, s, p, d, offsetScale, removeCenter);
        if (result.OutH < 1 || result.OutW < 1)
            throw new ArgumentException(
                $"input: a {x[1]}×{x[2]} image with padding ({p.H}, {p.W}), dilation ({d.H}, {d.W}) and a {kernelSize.H}×{kernelSize.W} kernel gives an output of {result.OutH}×{result.OutW}; expected at least 1×1.",
                nameof(input));
        return result;
    }
}

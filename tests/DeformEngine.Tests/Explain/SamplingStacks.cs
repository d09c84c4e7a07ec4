using DeformEngine.Explain;

namespace DeformEngine.Tests.Explain;

/// <summary>Stacks of square layers for the sampling-trace tests, described independently of
/// <see cref="SamplingLayer"/>: a deformable layer with a constant offset, a plain convolution, or a
/// pooling window.</summary>
internal static class SamplingStacks
{
    public enum Kind { Dcn, Conv, Pool }

    public sealed record Step(Kind Kind, int Kernel, int Stride = 1, int Padding = 0, int Dilation = 1, double OffsetY = 0, double OffsetX = 0)
    {
        public int OutSize(int size) => (size + 2 * Padding - Dilation * (Kernel - 1) - 1) / Stride + 1;

        public override string ToString() => Kind switch
        {
            Kind.Pool => $"pool{Kernel}s{Stride}",
            _ => $"{Kind.ToString().ToLowerInvariant()}{Kernel}s{Stride}p{Padding}d{Dilation}" +
                 (OffsetY != 0 || OffsetX != 0 ? $"+({OffsetY},{OffsetX})" : ""),
        };
    }

    public static Step Dcn(int kernel, int stride = 1, int padding = 0, int dilation = 1) => new(Kind.Dcn, kernel, stride, padding, dilation);

    public static Step Conv(int kernel, int stride = 1, int padding = 0, int dilation = 1) => new(Kind.Conv, kernel, stride, padding, dilation);

    public static Step Pool(int kernel, int stride) => new(Kind.Pool, kernel, stride);

    public sealed record Stack(string Name, int Size, Step[] Steps)
    {
        public override string ToString() => $"{Name}: {Size}x{Size} → {string.Join(" → ", Steps.AsEnumerable())}";
    }

    /// <summary>Regular stacks (offsets 0) with and without pools, strides and dilations; the
    /// DeformedFashion model's geometry among them.</summary>
    public static readonly Stack[] Regular =
    [
        new("two DCNs, 'same' padding", 12, [Dcn(3, padding: 1), Dcn(3, padding: 1)]),
        new("the random example: the upper DCN dilated", 16, [Dcn(3, padding: 1), Dcn(3, padding: 2, dilation: 2)]),
        new("DeformedFashion: conv → pool → DCN → pool → DCN", 28,
            [Conv(3, padding: 1), Pool(2, 2), Dcn(3, padding: 1), Pool(2, 2), Dcn(3, padding: 1)]),
        new("strided and dilated DCNs, one without padding", 29,
            [Dcn(3, stride: 2, padding: 1), Dcn(3, padding: 2, dilation: 2), Dcn(3, stride: 2)]),
        new("strided conv stem, overlapping pool, valid DCNs", 41,
            [Conv(5, stride: 2), Pool(3, 2), Dcn(3, dilation: 2), Dcn(3, stride: 2, padding: 1)]),
        new("even kernels: a 2x2 DCN and a 3x3 pool with stride 3", 26, [Dcn(2), Pool(3, 3), Dcn(3, padding: 1)]),
        new("three DCNs with a pool between the first two", 20,
            [Dcn(3, padding: 1), Pool(2, 2), Dcn(3, padding: 1), Dcn(3, padding: 2, dilation: 2)]),
        new("plain convs between DCNs: 3x3 and 4x4, stride 2", 34,
            [Dcn(3, padding: 1), Conv(3, stride: 2, padding: 1), Dcn(3, padding: 1), Conv(4, stride: 2, padding: 1), Dcn(3, padding: 1)]),
    ];

    /// <summary>Stacks whose DCNs have constant offsets (fractional, negative, on a half): every
    /// position is still known in closed form.</summary>
    public static readonly Stack[] Shifted =
    [
        new("DeformedFashion, shifted", 28,
        [
            Conv(3, padding: 1), Pool(2, 2), Dcn(3, padding: 1) with { OffsetY = 0.4, OffsetX = -1.3 }, Pool(2, 2),
            Dcn(3, padding: 1) with { OffsetY = 0.6, OffsetX = -1.5 },
        ]),
        new("strided DCNs, shifted", 29,
            [Dcn(3, stride: 2, padding: 1) with { OffsetY = -0.7 }, Dcn(3, padding: 2, dilation: 2) with { OffsetY = 2, OffsetX = 1.5 }]),
    ];

    public static IEnumerable<object[]> AllCases => Regular.Concat(Shifted).Select(s => new object[] { s.Name });

    public static Stack Named(string name) => Regular.Concat(Shifted).Single(s => s.Name == name);

    public static IEnumerable<object[]> RegularCases => Regular.Select(s => new object[] { s.Name });

    public static int[] Sizes(Stack stack)
    {
        var sizes = new int[stack.Steps.Length + 1];
        sizes[0] = stack.Size;
        for (int l = 0; l < stack.Steps.Length; l++) sizes[l + 1] = stack.Steps[l].OutSize(sizes[l]);
        return sizes;
    }

    /// <summary>The stack as the plots take it, bottom first.</summary>
    public static List<SamplingLayer> Build(Stack stack)
    {
        var sizes = Sizes(stack);
        var layers = new List<SamplingLayer>();
        for (int l = 0; l < stack.Steps.Length; l++)
        {
            var s = stack.Steps[l];
            int size = sizes[l], outSize = sizes[l + 1];
            layers.Add(s.Kind switch
            {
                Kind.Pool => SamplingLayer.Pooling(size, size, s.Kernel, s.Stride),
                Kind.Conv => SamplingLayer.Window(size, size, (s.Kernel, s.Kernel), (s.Stride, s.Stride), (s.Padding, s.Padding), (s.Dilation, s.Dilation)),
                _ => SamplingLayer.From(new DeformConvCall<double>(
                    Tensor<double>.Zeros(1, 1, size, size), ConstantOffset(s, outSize), Tensor<double>.Zeros(1, 1, s.Kernel, s.Kernel),
                    Stride: (s.Stride, s.Stride), Padding: (s.Padding, s.Padding), Dilation: (s.Dilation, s.Dilation))),
            });
        }
        return layers;
    }

    /// <summary>The same stack with positive weights as tensors: each DCN (offsets 0) and conv a
    /// convolution with all-ones weights, each pool an average pool, so that
    /// ∂out[q]/∂image is non-zero exactly on q's receptive field.</summary>
    public static Tensor<double> Forward(Stack stack, Tensor<double> image, int layerCount)
    {
        var x = image;
        foreach (var s in stack.Steps.Take(layerCount))
            x = s.Kind == Kind.Pool
                ? Functional.AvgPool2d(x, (s.Kernel, s.Kernel), (s.Stride, s.Stride))
                : Functional.Conv2d(x, Tensor<double>.Ones(1, 1, s.Kernel, s.Kernel), null,
                    (s.Stride, s.Stride), (s.Padding, s.Padding), (s.Dilation, s.Dilation));
        return x;
    }

    private static Tensor<double> ConstantOffset(Step step, int outSize)
    {
        int points = step.Kernel * step.Kernel;
        var offset = new double[2 * points * outSize * outSize];
        for (int k = 0; k < points; k++)
            for (int p = 0; p < outSize * outSize; p++)
            {
                offset[(2 * k) * outSize * outSize + p] = step.OffsetY;
                offset[(2 * k + 1) * outSize * outSize + p] = step.OffsetX;
            }
        return Tensor<double>.FromArray(offset, 1, 2 * points, outSize, outSize);
    }
}

namespace DeformEngine.Tests.Ops;

/// <summary>
/// A Conv2d problem for the tests that compare backends: named fixed ones (odd sizes, every
/// hyper-parameter, depthwise, a batch of 33) and seeded random ones, with their inputs and the call.
/// Inputs are input, weight, then bias where present.
/// </summary>
public sealed record Conv2dCase(string Name, int Seed, int N, int C, int O, int H, int W, int Kh, int Kw, (int H, int W) Stride,
    (int H, int W) Padding, (int H, int W) Dilation, int Groups, bool Bias)
{
    public int OutH => OutLength(H + 2 * Padding.H - Dilation.H * (Kh - 1) - 1, Stride.H);
    public int OutW => OutLength(W + 2 * Padding.W - Dilation.W * (Kw - 1) - 1, Stride.W);

    // A floor, as PyTorch: a kernel one past the input has no window even with stride 2.
    private static int OutLength(int span, int stride) => span < 0 ? 0 : span / stride + 1;

    public override string ToString() =>
        $"{Name}: N{N} C{C}->{O} {H}x{W} k{Kh}x{Kw} s{Stride} p{Padding} d{Dilation} groups {Groups} bias {Bias}";

    /// <summary>Hand-picked problems: each hyper-parameter on its own, odd and non-square sizes, depthwise,
    /// a batch of 33 and a pointwise kernel.</summary>
    public static readonly Conv2dCase[] Fixed =
    [
        Make("k3_pad1_bias", 951, 2, 3, 7, 6, 4, 3, 3, (1, 1), (1, 1), (1, 1), 1, true),
        Make("odd_k2x3_nobias", 952, 3, 2, 9, 5, 5, 2, 3, (1, 1), (0, 1), (1, 1), 1, false),
        Make("stride2", 953, 2, 4, 9, 8, 3, 3, 3, (2, 2), (1, 1), (1, 1), 1, true),
        Make("dilation2", 954, 1, 2, 9, 9, 3, 3, 3, (1, 1), (2, 2), (2, 2), 1, true),
        Make("groups2", 955, 2, 4, 6, 6, 6, 3, 3, (1, 1), (1, 1), (1, 1), 2, true),
        Make("depthwise", 956, 2, 3, 5, 7, 3, 3, 3, (1, 2), (1, 1), (1, 1), 3, false),
        Make("batch33", 957, 33, 2, 5, 4, 3, 3, 3, (1, 1), (1, 1), (1, 1), 1, true),
        Make("k1", 958, 2, 5, 4, 4, 2, 1, 1, (1, 1), (0, 0), (1, 1), 1, true),
        Make("stride3_dil2_pad3_nonsquare", 959, 2, 2, 13, 10, 3, 3, 2, (3, 2), (3, 1), (2, 3), 1, true),
    ];

    /// <summary>A fixed case by name, or "seed N" for <see cref="Random"/>(N).</summary>
    public static Conv2dCase Named(string name) =>
        name.StartsWith("seed ", StringComparison.Ordinal) ? Random(int.Parse(name[5..])) : Fixed.Single(c => c.Name == name);

    /// <summary>Kernels 1, 2, 3, 5 (not necessarily square), stride and dilation 1–2, padding 0–2, odd
    /// sizes, groups up to 3; every seventh a batch of 33; every fifth a pointwise (1×1, stride 1, no padding) one.</summary>
    public static Conv2dCase Random(int seed)
    {
        var rng = new SeededRandom(5000 + seed);
        int[] kernels = [1, 2, 3, 5];
        while (true)
        {
            int groups = 1 + rng.NextInt(3);
            var config = new Conv2dCase($"seed {seed}", seed,
                N: seed % 7 == 3 ? 33 : 1 + rng.NextInt(3),
                C: groups * (1 + rng.NextInt(3)), O: groups * (1 + rng.NextInt(3)),
                H: 3 + rng.NextInt(9), W: 3 + rng.NextInt(9),
                Kh: kernels[rng.NextInt(4)], Kw: kernels[rng.NextInt(4)],
                Stride: (1 + rng.NextInt(2), 1 + rng.NextInt(2)), Padding: (rng.NextInt(3), rng.NextInt(3)),
                Dilation: (1 + rng.NextInt(2), 1 + rng.NextInt(2)), Groups: groups, Bias: rng.NextInt(2) == 0);
            if (seed % 5 == 4) config = config with { Kh = 1, Kw = 1, Stride = (1, 1), Padding = (0, 0) };
            if (config.OutH >= 1 && config.OutW >= 1) return config;
        }
    }

    /// <summary>input, weight, [bias] drawn from seeds derived from <see cref="Seed"/>.</summary>
    public Tensor<T>[] Inputs<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        long s = 13 * Seed;
        var input = Tensor<T>.Randn(s + 1, N, C, H, W);
        var weight = Tensor<T>.Randn(s + 2, O, C / Groups, Kh, Kw);
        return Bias ? [input, weight, Tensor<T>.Randn(s + 3, O)] : [input, weight];
    }

    /// <summary>Seed of the upstream gradient.</summary>
    public long UpstreamSeed => 13 * Seed + 4;

    public Func<Tensor<T>[], Tensor<T>> Function<T>() where T : unmanaged, IFloatingPointIeee754<T> => x =>
        Functional.Conv2d(x[0], x[1], Bias ? x[2] : null, Stride, Padding, Dilation, Groups);

    public string[] Names => ["output", "grad input", "grad weight", .. Bias ? new[] { "grad bias" } : []];

    private static Conv2dCase Make(string name, int seed, int n, int c, int h, int w, int o, int kh, int kw, (int, int) stride,
        (int, int) padding, (int, int) dilation, int groups, bool bias) =>
        new(name, seed, n, c, o, h, w, kh, kw, stride, padding, dilation, groups, bias);
}

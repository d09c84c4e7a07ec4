namespace DeformEngine.Tests.Ops;

/// <summary>
/// A DeformConv2d problem for the tests that compare backends: named fixed ones (odd sizes, every
/// hyper-parameter, large offsets, a batch of 33) and seeded random ones, with their inputs and the call.
/// Inputs are input, offset, weight, then bias and mask where present.
/// </summary>
public sealed record DeformConv2dCase(string Name, int Seed, int N, int C, int O, int H, int W, int Kh, int Kw, (int H, int W) Stride,
    (int H, int W) Padding, (int H, int W) Dilation, int Groups, int OffsetGroups, bool Mask, bool Bias, double OffsetScale = 2)
{
    public int OutH => OutLength(H + 2 * Padding.H - Dilation.H * (Kh - 1) - 1, Stride.H);
    public int OutW => OutLength(W + 2 * Padding.W - Dilation.W * (Kw - 1) - 1, Stride.W);

    // A floor, as PyTorch: a kernel one past the input has no window even with stride 2.
    private static int OutLength(int span, int stride) => span < 0 ? 0 : span / stride + 1;

    /// <summary>The operator's parameters for this case.</summary>
    public DeformConv2dParams Parameters() =>
        new(new Conv2dParams(N, C, H, W, O, Kh, Kw, Stride, Padding, Dilation, Groups), OffsetGroups, Mask);

    public override string ToString() =>
        $"{Name}: N{N} C{C}->{O} {H}x{W} k{Kh}x{Kw} s{Stride} p{Padding} d{Dilation} groups {Groups} offset groups {OffsetGroups} mask {Mask} bias {Bias} offsets ×{OffsetScale}";

    /// <summary>Hand-picked problems: each hyper-parameter on its own, odd sizes, a batch of 33 and offsets
    /// that carry most sampling points outside the image.</summary>
    public static readonly DeformConv2dCase[] Fixed =
    [
        Make("k3_pad1_mask_bias", 901, 2, 4, 7, 6, 5, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true),
        Make("odd_k3x2_nomask_nobias", 902, 3, 3, 9, 5, 7, 3, 2, (1, 1), (0, 1), (1, 1), 1, 1, false, false),
        Make("stride2_og2_mask", 903, 2, 4, 8, 7, 4, 3, 3, (2, 2), (1, 1), (1, 1), 1, 2, true, false),
        Make("dilation2_pad2", 904, 1, 2, 9, 9, 3, 3, 3, (1, 1), (2, 2), (2, 2), 1, 1, true, true),
        Make("groups2_og2", 905, 2, 4, 6, 6, 6, 3, 3, (1, 1), (1, 1), (1, 1), 2, 2, true, true),
        Make("groups3_og2", 906, 1, 6, 5, 6, 3, 3, 3, (1, 1), (1, 1), (1, 1), 3, 2, false, true),
        Make("batch33", 907, 33, 2, 5, 4, 3, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true),
        Make("k1_og3_mask", 908, 2, 3, 5, 5, 4, 1, 1, (1, 1), (0, 0), (1, 1), 1, 3, true, false),
        Make("large_offsets", 909, 2, 2, 6, 6, 2, 3, 3, (1, 1), (1, 1), (1, 1), 1, 1, true, true, offsetScale: 6),
        Make("stride21_dil12_k2x3", 910, 2, 2, 11, 8, 3, 2, 3, (2, 1), (1, 0), (1, 2), 1, 1, false, true),
    ];

    /// <summary>A fixed case by name, or "seed N" for <see cref="Random"/>(N).</summary>
    public static DeformConv2dCase Named(string name) =>
        name.StartsWith("seed ", StringComparison.Ordinal) ? Random(int.Parse(name[5..])) : Fixed.Single(c => c.Name == name);

    /// <summary>A random geometry: kernels 1, 2, 3, 5 (not necessarily square), stride and dilation
    /// 1–2, padding 0–2, odd sizes, groups and offset groups up to 3 and 4; every seventh a batch of 33.
    /// Offsets of scale 2: many sampling points cross the border or leave the image.</summary>
    public static DeformConv2dCase Random(int seed)
    {
        var rng = new SeededRandom(1000 + seed);
        int[] kernels = [1, 2, 3, 5];
        while (true)
        {
            int groups = 1 + rng.NextInt(3), offsetGroups = new[] { 1, 2, 4 }[rng.NextInt(3)];
            int lcm = groups * offsetGroups / Gcd(groups, offsetGroups);
            var config = new DeformConv2dCase($"seed {seed}", seed,
                N: seed % 7 == 3 ? 33 : 1 + rng.NextInt(3),
                C: lcm * (1 + rng.NextInt(3)), O: groups * (1 + rng.NextInt(3)),
                H: 3 + rng.NextInt(9), W: 3 + rng.NextInt(9),
                Kh: kernels[rng.NextInt(4)], Kw: kernels[rng.NextInt(4)],
                Stride: (1 + rng.NextInt(2), 1 + rng.NextInt(2)), Padding: (rng.NextInt(3), rng.NextInt(3)),
                Dilation: (1 + rng.NextInt(2), 1 + rng.NextInt(2)), Groups: groups, OffsetGroups: offsetGroups,
                Mask: rng.NextInt(4) != 0, Bias: rng.NextInt(2) == 0);
            if (config.OutH >= 1 && config.OutW >= 1) return config;
        }
    }

    /// <summary>input, offset, weight, [bias], [mask] drawn from seeds derived from <see cref="Seed"/>.</summary>
    public Tensor<T>[] Inputs<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        long s = 17 * Seed;
        var list = new List<Tensor<T>>
        {
            Tensor<T>.Randn(s + 1, N, C, H, W),
            Tensor<T>.Randn(s + 2, N, 2 * OffsetGroups * Kh * Kw, OutH, OutW).MulScalar(T.CreateChecked(OffsetScale)),
            Tensor<T>.Randn(s + 3, O, C / Groups, Kh, Kw),
        };
        if (Bias) list.Add(Tensor<T>.Randn(s + 4, O));
        if (Mask) list.Add(Tensor<T>.Rand(s + 5, N, OffsetGroups * Kh * Kw, OutH, OutW));
        return [.. list];
    }

    /// <summary>Seed of the upstream gradient.</summary>
    public long UpstreamSeed => 17 * Seed + 6;

    public Func<Tensor<T>[], Tensor<T>> Function<T>() where T : unmanaged, IFloatingPointIeee754<T> => x =>
        Functional.DeformConv2d(x[0], x[1], x[2], Bias ? x[3] : null, Stride, Padding, Dilation, Mask ? x[Bias ? 4 : 3] : null);

    public string[] Names =>
        ["output", "grad input", "grad offset", "grad weight", .. Bias ? new[] { "grad bias" } : [], .. Mask ? new[] { "grad mask" } : []];

    private static DeformConv2dCase Make(string name, int seed, int n, int c, int h, int w, int o, int kh, int kw, (int, int) stride,
        (int, int) padding, (int, int) dilation, int groups, int offsetGroups, bool mask, bool bias, double offsetScale = 1.5) =>
        new(name, seed, n, c, o, h, w, kh, kw, stride, padding, dilation, groups, offsetGroups, mask, bias, offsetScale);

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}

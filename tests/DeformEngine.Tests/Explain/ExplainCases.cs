using DeformEngine.Explain;

namespace DeformEngine.Tests.Explain;

/// <summary>Seeded random deformable-convolution calls for the explainer tests: small images and
/// large offsets, so that many sampling points lie near or across the border.</summary>
internal static class ExplainCases
{
    public sealed record Case(string Name, DeformConvCall<double> Call, OutputUnit[] Units);

    public static Case Random(int seed)
    {
        var rng = new SeededRandom(seed);
        int k = rng.NextInt(2) == 0 ? 3 : 2 + rng.NextInt(2);       // 2, 3
        int kh = k, kw = rng.NextInt(3) == 0 ? 1 : k;               // sometimes 3×1
        int stride = 1 + rng.NextInt(2), pad = rng.NextInt(2), dilation = 1 + rng.NextInt(2);
        int groups = 1 + rng.NextInt(2), offsetGroups = 1 + rng.NextInt(2);
        int c = 2 * groups * offsetGroups, outC = 2 * groups, n = 1 + rng.NextInt(2);
        int h = dilation * (kh - 1) + 2 + rng.NextInt(3), w = dilation * (kw - 1) + 2 + rng.NextInt(3);
        int oh = (h + 2 * pad - dilation * (kh - 1) - 1) / stride + 1, ow = (w + 2 * pad - dilation * (kw - 1) - 1) / stride + 1;
        bool useMask = rng.NextInt(2) == 0, useBias = rng.NextInt(2) == 0;
        // Offsets of a few pixels on an image a little larger than the kernel: points land inside, on the border band
        // (−1, 0) and (H−1, H), and outside. Kept off integer coordinates for finite differences.
        var offset = GradCheck.KeepOffIntegers(Tensor<double>.Randn(seed * 10 + 1, n, 2 * offsetGroups * kh * kw, oh, ow).MulScalar(2.5));
        var call = new DeformConvCall<double>(
            Tensor<double>.Randn(seed * 10 + 2, n, c, h, w), offset,
            Tensor<double>.Randn(seed * 10 + 3, outC, c / groups, kh, kw),
            useBias ? Tensor<double>.Randn(seed * 10 + 4, outC) : null,
            (stride, stride), (pad, pad), (dilation, dilation),
            useMask ? Tensor<double>.Rand(seed * 10 + 5, n, offsetGroups * kh * kw, oh, ow) : null);
        var units = Enumerable.Range(0, 3)
            .Select(_ => new OutputUnit(rng.NextInt(n), rng.NextInt(outC), rng.NextInt(oh), rng.NextInt(ow))).ToArray();
        string name = $"seed {seed}: k {kh}x{kw} s{stride} p{pad} d{dilation} groups {groups} offset groups {offsetGroups}" +
                      $"{(useMask ? " mask" : "")}{(useBias ? " bias" : "")} input {n}x{c}x{h}x{w}";
        return new Case(name, call, units);
    }

    public static IEnumerable<object[]> Seeds => Enumerable.Range(1, 12).Select(s => new object[] { s });
}

using DeformEngine.Tests.Support;

namespace DeformEngine.Tests.Ops;

/// <summary>The RoI pooling operators on every backend against the CPU reference (the oracle): forward and
/// every gradient, on fixed and seeded random configurations.</summary>
[TestClass]
[DoNotParallelize] // the CPU rows switch EngineOptions.UseReferenceKernels
public class RoIPoolingBackendTests
{
    // Bin means of a few bilinear samples and channel sums of their slopes, in float, with the input
    // gradient scattered (on a device by atomics) in another order than the reference: a few ulps of the
    // largest value. The same in double; a device's deterministic fixed-point scatter keeps 2^-62 of its bound.
    private static readonly Tolerance VsReference = Tolerance.Everywhere(1e-4, 1e-10);

    /// <summary>A call of RoIAlign, PSRoIAlign (C output channels, C·PH·PW input channels),
    /// DeformRoIPool or ModulatedDeformRoIPool (composed: DeformRoIPool times a broadcast mask). Sampling ≤ 0 is adaptive; Degenerate adds a RoI of zero extent.</summary>
    public sealed record AlignCase(string Name, string Op, int N, int C, int H, int W, int K, int PH, int PW,
        double Scale, int Sampling, bool Aligned = true, bool Offset = true, double Gamma = 0.1, bool Degenerate = false)
    {
        public override string ToString() => Name;
    }

    /// <summary>A DeformPSRoIPool call: input [N, OutputDim·G², H, W], trans [K, 2·Classes, Parts, Parts].</summary>
    public sealed record PSCase(string Name, int N, int OutputDim, int G, int P, int Parts, int S, int Classes, int H, int W, int K,
        double Scale, double TransStd, bool NoTrans = false)
    {
        public override string ToString() => Name;
    }

    internal static readonly AlignCase[] FixedAlign =
    [
        new("roialign_aligned_adaptive", "RoIAlign", 2, 3, 9, 11, 5, 3, 2, 0.5, -1),
        new("roialign_legacy_ratio2_tiny", "RoIAlign", 1, 2, 7, 6, 6, 2, 3, 0.25, 2, Aligned: false),
        new("roialign_degenerate_adaptive", "RoIAlign", 3, 2, 5, 5, 6, 4, 4, 0.73, 0, Degenerate: true),
        new("psroialign_2x2_adaptive", "PSRoIAlign", 2, 3, 8, 7, 5, 2, 2, 0.6, -1),
        new("psroialign_3x2_ratio3", "PSRoIAlign", 1, 2, 6, 9, 4, 3, 2, 1.0, 3),
        new("deformroipool_offset", "DeformRoIPool", 2, 3, 9, 8, 5, 3, 3, 0.5, 0),
        new("deformroipool_large_offset_ratio2", "DeformRoIPool", 1, 2, 7, 7, 6, 2, 3, 0.8, 2, Gamma: 0.6),
        new("deformroipool_no_offset", "DeformRoIPool", 2, 2, 6, 7, 4, 3, 2, 0.45, 0, Offset: false),
        new("modulated_offset", "ModulatedDeformRoIPool", 2, 3, 8, 9, 5, 3, 2, 0.55, 0),
        new("modulated_no_offset_ratio2", "ModulatedDeformRoIPool", 1, 2, 7, 6, 4, 2, 2, 0.9, 2, Offset: false),
    ];

    /// <summary>The fixed cases and seeded random ones of each operator.</summary>
    public static readonly AlignCase[] AlignCases =
    [
        .. FixedAlign,
        .. RandomAlignCases("RoIAlign", 3, seed: 601),
        .. RandomAlignCases("PSRoIAlign", 3, seed: 602),
        .. RandomAlignCases("DeformRoIPool", 3, seed: 603),
        .. RandomAlignCases("ModulatedDeformRoIPool", 2, seed: 608),
    ];

    public static readonly PSCase[] PSCases =
    [
        new("g2_p2_s2", 2, 3, 2, 2, 2, 2, 1, 8, 9, 4, 0.6, 0.1),
        new("g3_p3_parts2_classes3", 1, 3, 3, 3, 2, 2, 3, 7, 8, 3, 0.45, 0.2),
        new("g1_p4_s3_notrans", 2, 2, 1, 4, 4, 3, 1, 9, 6, 5, 0.37, 0.1, NoTrans: true),
        new("g2_p4_parts4_s1_far", 1, 2, 2, 4, 4, 1, 2, 6, 6, 6, 0.71, 0.5),
        .. RandomPSCases(3, seed: 604),
    ];

    public static IEnumerable<object[]> AlignRuns => TestBackends.Cross(TestBackends.Candidates, AlignCases.Select(c => c.Name));

    public static IEnumerable<object[]> PSRuns => TestBackends.Cross(TestBackends.Candidates, PSCases.Select(c => c.Name));

    [TestMethod]
    [DynamicData(nameof(AlignRuns))]
    public void RoIAlignFamily_Float_MatchesReferenceForwardAndEveryGradient(string backend, string caseName) =>
        CheckAlign<float>(backend, AlignCases.Single(x => x.Name == caseName));

    [TestMethod]
    [DynamicData(nameof(AlignRuns))]
    public void RoIAlignFamily_Double_MatchesReferenceForwardAndEveryGradient(string backend, string caseName) =>
        CheckAlign<double>(backend, AlignCases.Single(x => x.Name == caseName));

    [TestMethod]
    [DynamicData(nameof(PSRuns))]
    public void DeformPSRoIPool_Float_MatchesReferenceForwardAndEveryGradient(string backend, string caseName) =>
        CheckPS<float>(backend, PSCases.Single(x => x.Name == caseName));

    [TestMethod]
    [DynamicData(nameof(PSRuns))]
    public void DeformPSRoIPool_Double_MatchesReferenceForwardAndEveryGradient(string backend, string caseName) =>
        CheckPS<double>(backend, PSCases.Single(x => x.Name == caseName));

    private static void CheckAlign<T>(string backend, AlignCase c) where T : unmanaged, IFloatingPointIeee754<T> =>
        BackendRuns.MatchesReference(backend, AlignFunction<T>(c), AlignInputs<T>(c), VsReference, c.Name, seed: 606, AlignNames(c));

    private static void CheckPS<T>(string backend, PSCase c) where T : unmanaged, IFloatingPointIeee754<T> =>
        BackendRuns.MatchesReference(backend, PSFunction<T>(c), PSInputs<T>(c), VsReference, c.Name, seed: 606, PSNames(c));

    internal static Func<Tensor<T>[], Tensor<T>> AlignFunction<T>(AlignCase c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rois = Rois<T>(c.N, c.H, c.W, c.K, c.Scale, seed: c.Name.Length * 31 + c.K, c.Degenerate);
        return c.Op switch
        {
            "RoIAlign" => x => Functional.RoIAlign(x[0], rois.To(x[0].Device), (c.PH, c.PW), c.Scale, c.Sampling, c.Aligned),
            "PSRoIAlign" => x => Functional.PSRoIAlign(x[0], rois.To(x[0].Device), (c.PH, c.PW), c.Scale, c.Sampling),
            "DeformRoIPool" => x => Functional.DeformRoIPool(x[0], rois.To(x[0].Device), c.Offset ? x[1] : null, (c.PH, c.PW),
                c.Scale, c.Sampling, c.Gamma),
            "ModulatedDeformRoIPool" => x => Functional.ModulatedDeformRoIPool(x[0], rois.To(x[0].Device), c.Offset ? x[1] : null,
                x[c.Offset ? 2 : 1], (c.PH, c.PW), c.Scale, c.Sampling, c.Gamma),
            _ => throw new ArgumentOutOfRangeException(nameof(c), c.Op, "unknown operator"),
        };
    }

    internal static Tensor<T>[] AlignInputs<T>(AlignCase c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool deform = c.Op.Contains("Deform");
        int channels = c.Op == "PSRoIAlign" ? c.C * c.PH * c.PW : c.C;
        var list = new List<Tensor<T>> { Tensor<T>.Randn(611, c.N, channels, c.H, c.W) };
        if (deform && c.Offset) list.Add(Tensor<T>.Randn(612, c.K, 2, c.PH, c.PW));
        if (c.Op == "ModulatedDeformRoIPool") list.Add(Tensor<T>.Rand(613, c.K, 1, c.PH, c.PW));
        return [.. list];
    }

    internal static string[] AlignNames(AlignCase c) =>
    [
        "output", "grad input",
        .. c.Op.Contains("Deform") && c.Offset ? new[] { "grad offset" } : [],
        .. c.Op == "ModulatedDeformRoIPool" ? new[] { "grad mask" } : [],
    ];

    internal static Func<Tensor<T>[], Tensor<T>> PSFunction<T>(PSCase c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rois = Rois<T>(c.N, c.H, c.W, c.K, c.Scale, seed: c.Name.Length * 37 + c.K, degenerate: false);
        return x => Functional.DeformPSRoIPool(x[0], rois.To(x[0].Device), c.NoTrans ? null : x[1], c.Scale, c.OutputDim, c.G, c.P,
            c.Parts, c.S, c.TransStd, c.NoTrans);
    }

    internal static Tensor<T>[] PSInputs<T>(PSCase c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var input = Tensor<T>.Randn(621, c.N, c.OutputDim * c.G * c.G, c.H, c.W);
        return c.NoTrans ? [input] : [input, Tensor<T>.Randn(622, c.K, 2 * c.Classes, c.Parts, c.Parts)];
    }

    internal static string[] PSNames(PSCase c) => c.NoTrans ? ["output", "grad input"] : ["output", "grad input", "grad trans"];

    /// <summary>K RoIs in image coordinates (feature map / scale), some reaching past the borders;
    /// with <paramref name="degenerate"/> the last has zero extent.</summary>
    private static Tensor<T> Rois<T>(int n, int h, int w, int k, double scale, long seed, bool degenerate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new SeededRandom(seed);
        var rows = new T[k * 5];
        for (int r = 0; r < k; r++)
        {
            double x1 = (random.NextDouble() * 1.4 - 0.3) * w / scale, y1 = (random.NextDouble() * 1.4 - 0.3) * h / scale;
            double width = random.NextDouble() * 0.9 * w / scale, height = random.NextDouble() * 0.9 * h / scale;
            if (degenerate && r == k - 1) width = height = 0;
            double[] row = [random.NextInt(n), x1, y1, x1 + width, y1 + height];
            for (int i = 0; i < 5; i++) rows[r * 5 + i] = T.CreateChecked(row[i]);
        }
        return Tensor<T>.FromArray(rows, k, 5);
    }

    private static IEnumerable<AlignCase> RandomAlignCases(string op, int count, long seed)
    {
        var random = new SeededRandom(seed);
        for (int i = 0; i < count; i++)
        {
            double scale = 0.25 + random.NextDouble();
            yield return new AlignCase($"{op.ToLowerInvariant()}_random{i}", op, 1 + random.NextInt(3), 1 + random.NextInt(3),
                2 + random.NextInt(9), 2 + random.NextInt(9), 1 + random.NextInt(7), 1 + random.NextInt(4), 1 + random.NextInt(4),
                scale, random.NextInt(4) - 1, Aligned: random.NextInt(2) == 0, Offset: random.NextInt(4) != 0,
                Gamma: 0.05 + 0.5 * random.NextDouble());
        }
    }

    private static IEnumerable<PSCase> RandomPSCases(int count, long seed)
    {
        var random = new SeededRandom(seed);
        for (int i = 0; i < count; i++)
        {
            int classes = 1 + random.NextInt(2);
            int pooled = 1 + random.NextInt(4);
            yield return new PSCase($"random{i}", 1 + random.NextInt(3), classes * (1 + random.NextInt(2)), 1 + random.NextInt(3),
                pooled, 1 + random.NextInt(pooled), 1 + random.NextInt(3), classes, 3 + random.NextInt(7), 3 + random.NextInt(7),
                1 + random.NextInt(6), 0.3 + random.NextDouble(), 0.05 + 0.3 * random.NextDouble());
        }
    }
}
